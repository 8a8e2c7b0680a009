import { writeFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { Option, type Command } from 'commander';
import type { Db } from '../db/connection.js';
import {
  annotateItem,
  claimAnnotationItem,
  listQueueItems,
  listQueues,
  queueTemplate,
  releaseAnnotationItem,
  requireQueue,
  submitAnnotationFile,
  type BatchResult,
} from '../annotation/annotation-service.js';
import { UserError } from '../schemas/user-error.js';
import { FAILURE_CATEGORIES } from '../schemas/failure-category.js';
import { queueDetails } from '../annotation/queue-details-service.js';
import { createScoreConfig, listScoreConfigs } from '../annotation/score-config-service.js';

import type { AgreementReport } from '../annotation/inter-annotator-agreement.js';
import { readJsonFile, type CliAction } from './cli-files.js';
import { suggestLabel } from '../annotation/label-suggestion-service.js';
import { withSuggestions, type TemplateSuggestion } from '../annotation/annotation-template.js';
import type { LlmClient } from '../llm/llm-client.js';
import { depsOf } from './coaching-commands.js';
import { resourceOwners } from '../registry/resource-owner-service.js';
import type { CliContext } from './cli-context.js';
import { cliPrincipal } from './cli-credentials.js';
import { actingPerson } from './cli-identity.js';

/** The signed-in reviewer, checked for the reviewer role on the agent that owns `itemId`. */
async function reviewerOf(ctx: CliContext, db: Db, itemId: string): Promise<string> {
  const agent = (await resourceOwners.item(db, itemId)) ?? null;
  return (await actingPerson(ctx, {}, { role: 'reviewer' }, agent, `label ${itemId}`)).id;
}

/** The agent a batch file's labels belong to: its queue's, or its first item's. */
async function batchAgent(db: Db, body: unknown, queue?: string): Promise<string | null> {
  const file = (body ?? {}) as { queue?: unknown; labels?: { itemId?: unknown }[] };
  const queueId = queue ?? (typeof file.queue === 'string' ? file.queue : undefined);
  if (queueId) return (await resourceOwners.queue(db, queueId)) ?? null;
  const first = Array.isArray(file.labels) ? file.labels[0]?.itemId : undefined;
  return typeof first === 'string' ? ((await resourceOwners.item(db, first)) ?? null) : null;
}

type Action = CliAction;

const collect = (value: string, previous: string[]) => [...previous, value];

/** `name=value` pairs; values that read as JSON (numbers, booleans) are taken as such. */
function pairs(entries: string[], what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new UserError(`${what} "${entry}" is not name=value.`);
    const raw = entry.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // A bare word such as a category label stays a string.
    }
    out[entry.slice(0, at)] = value;
  }
  return out;
}

const fixed = (x: number | null) => (x === null ? '—' : x.toFixed(3));

function printAgreement(name: string, a: AgreementReport): void {
  const stats =
    a.level === 'interval'
      ? `Krippendorff α (interval) ${fixed(a.krippendorffAlpha)}`
      : `agreement ${fixed(a.percentAgreement)}, Fleiss κ ${fixed(a.fleissKappa)}, Krippendorff α ${fixed(a.krippendorffAlpha)}`;
  console.log(`  ${name.padEnd(20)} ${a.items} item(s) with ≥ 2 labels: ${stats}`);
  for (const p of a.cohenKappa)
    console.log(`    Cohen κ ${p.raters.join(' vs ')} on ${p.items} item(s): ${fixed(p.kappa)}`);
}

/**
 * `queue show --template FILE`: writes the queue's open items as a batch file that
 * `annotate --file` accepts unchanged. Returns how many labels it wrote.
 */
export async function writeQueueTemplate(
  db: Db,
  queueOrCycleId: string,
  file: string,
  options: { reviewer: string; status?: string; suggest?: { teacher: LlmClient | null } },
): Promise<number> {
  const template = await queueTemplate(db, queueOrCycleId, options.reviewer, options);
  let written: { labels: readonly unknown[] } = template;
  if (options.suggest) {
    // One at a time: the teacher client limits its own concurrency, and a reviewer waits on
    // the file either way. Only where the evaluators did not pass, as in the console.
    const answers = new Map<string, TemplateSuggestion>();
    for (const label of template.labels)
      if (label.verdict === 'fail')
        answers.set(
          label.itemId,
          await suggestLabel({ db, teacher: options.suggest.teacher }, label.itemId, options.reviewer),
        );
    written = withSuggestions(template, answers);
  }
  writeFileSync(file, `${JSON.stringify(written, null, 2)}\n`);
  return written.labels.length;
}

/** `annotate --file FILE [--queue ID]`: reads the batch file and submits it. */
export async function submitBatchFile(
  db: Db,
  client: Client,
  file: string,
  options: { queue?: string; reviewer: string },
): Promise<BatchResult> {
  return submitAnnotationFile(db, client, readJsonFile(file), { ...options, source: file });
}

/** `queue show`'s options. */
type ShowOptions = { reviewer?: string; status?: string; template?: string; suggest?: boolean };

/** Annotation queues, claims, labels and score configs: the reviewer side of a cycle. */
export function registerQueueCommands(program: Command, action: Action): void {
  const queue = program
    .command('queue')
    .description('annotation queues: list, show, claim and release items');
  queue
    .command('list')
    .option('--agent <agent>', 'only this agent')
    .action(
      action(async (ctx, opts: { agent?: string }) => {
        for (const q of await listQueues(await ctx.database(), opts.agent))
          console.log(
            `${q.id.padEnd(52)} ${q.status.padEnd(9)} ${q.complete}/${q.items} complete  quorum ${q.quorum}  ${q.reviewers_per_item} reviewer(s)/item`,
          );
      }),
    );
  queue
    .command('show <queueOrCycleId>')
    .description('items, progress per reviewer and agreement; --template writes a batch file to edit')
    .option('--reviewer <name>', 'only items assigned to, claimed or labelled by this reviewer')
    .option('--status <status>', 'pending, in_progress or complete')
    .option('--template <file>', 'write a batch file prefilled with the judge verdicts')
    .option(
      '--suggest',
      "with --template: prefill the items the evaluators failed with the teacher model's suggested labels (check each)",
    )
    .action(
      action(async (ctx, id: string, opts: ShowOptions) => {
        const db = await ctx.database();
        if (opts.template) {
          // The template is signed by who will submit it: the signed-in reviewer by default.
          const reviewer = opts.reviewer ?? (await cliPrincipal(ctx)).id;
          const suggest = opts.suggest ? { teacher: (await depsOf(ctx)).teacher } : undefined;
          const { suggest: _flag, ...filter } = opts;
          const written = await writeQueueTemplate(db, id, opts.template, {
            ...filter,
            reviewer,
            ...(suggest ? { suggest } : {}),
          });
          console.log(
            `wrote ${written} item(s) to ${opts.template}; it can be submitted as it is. Edit verdicts and categories where you disagree, add "expected" where you know the right step and "slices" (e.g. ["adversarial"]) to flag an item, then: flywheel annotate --file ${opts.template}`,
          );
          if (suggest)
            console.log(
              "Items the evaluators failed carry the teacher model's suggested label where it gave one (context.suggested says who and why, or why not): check each against the conversation before you submit.",
            );
          return;
        }
        const found = await requireQueue(db, id);
        const items = await listQueueItems(db, found.id, opts);
        const details = await queueDetails(db, found.id);
        const p = details.progress;
        console.log(
          `${p.queueId} (${details.queue.status}): ${p.complete}/${p.total} complete, ${p.inProgress} in progress, ${p.pending} pending; quorum ${p.quorum}${p.quorumReached ? ' reached' : ''}`,
        );
        for (const i of items)
          console.log(
            `${i.id}  ${i.status.padEnd(11)} judge=${i.judge_label}/${i.judge_category ?? '-'} step=${i.failing_step ?? '-'} reviews=${i.labelledBy.length}/${i.required_reviews}${i.assigned.length ? ` assigned=${i.assigned.join(',')}` : ''}${i.disagreement ? ' DISAGREEMENT' : ''}`,
          );
        console.log('\nreviewers:');
        for (const r of p.byReviewer)
          console.log(
            `  ${r.reviewer.padEnd(20)} assigned ${r.assigned}, claimed ${r.claimed}, labelled ${r.completed}, open ${r.open}`,
          );
        console.log('\nagreement:');
        printAgreement('verdict', details.agreement.verdict);
        for (const [name, a] of Object.entries(details.agreement.scores)) printAgreement(name, a);
      }),
    );
  queue
    .command('claim <itemId>')
    .description('hold an item for yourself (who you are: flywheel whoami)')
    .action(
      action(async (ctx, itemId: string) => {
        const db = await ctx.database();
        const reviewer = await reviewerOf(ctx, db, itemId);
        const c = await claimAnnotationItem(db, itemId, { reviewer });
        console.log(`${c.reviewer} holds ${c.itemId} until ${c.expiresAt.toISOString()}`);
      }),
    );
  queue
    .command('release <itemId>')
    .description('give your claim on an item back')
    .action(
      action(async (ctx, itemId: string) => {
        const db = await ctx.database();
        const reviewer = await reviewerOf(ctx, db, itemId);
        await releaseAnnotationItem(db, itemId, { reviewer });
        console.log(`${reviewer} released ${itemId}`);
      }),
    );

  program
    .command('annotate [itemId]')
    .description(
      'label a claimed item (--verdict ...), or submit a batch file: { queue, reviewer, labels: [{ itemId, verdict, category?, slices?, ... }] }; you label as who your credentials say',
    )
    .option('--file <file>', 'batch file (see `flywheel queue show --template`)')
    .option('--queue <queueOrCycleId>', "the batch's queue when the file does not name it")
    .addOption(new Option('--reviewer <name>').hideHelp())
    .option('--verdict <verdict>', 'pass or fail')
    .option('--category <category>', `corrected failure category: ${FAILURE_CATEGORIES.join(', ')}`)
    .option('--expected <json>', 'the step the agent should have taken, as JSON')
    .option('--comment <text>')
    .option('--slice <name>', 'flag a slice the item belongs to, e.g. adversarial (repeatable)', collect, [])
    .option('--score <name=value>', 'a score config value (repeatable)', collect, [])
    .option('--dimension <name=pass|fail>', 'a per-rubric label (repeatable)', collect, [])
    .action(
      action(
        async (
          ctx,
          itemId: string | undefined,
          opts: {
            file?: string;
            queue?: string;
            reviewer?: string;
            verdict?: string;
            category?: string;
            expected?: string;
            comment?: string;
            score: string[];
            dimension: string[];
            slice: string[];
          },
        ) => {
          const db = await ctx.database();
          if (opts.reviewer !== undefined)
            throw new UserError(
              '--reviewer is gone: you label as who your credentials say (`flywheel login`, or FLYWHEEL_TOKEN; `flywheel whoami`). Nothing was stored.',
            );
          if (opts.file) {
            if (itemId) throw new UserError('Pass either an item id or --file, not both.');
            const agent = await batchAgent(db, readJsonFile(opts.file), opts.queue);
            const reviewer = (await actingPerson(ctx, {}, { role: 'reviewer' }, agent, 'submit labels')).id;
            const r = await submitBatchFile(db, await ctx.temporal(), opts.file, {
              ...(opts.queue ? { queue: opts.queue } : {}),
              reviewer,
            });
            console.log(
              `stored ${r.stored} label(s); ${r.remaining} item(s) not complete${r.complete ? ' — quorum reached, the cycle moves on' : ''}`,
            );
            for (const e of r.errors) console.error(`  labels[${e.index}] ${e.itemId ?? ''}: ${e.error}`);
            if (r.notifyError)
              console.error(`  the cycle was not told yet (${r.notifyError}); it is retried`);
            if (r.errors.length > 0) process.exitCode = 2;
            return;
          }
          if (!itemId) throw new UserError('Pass an item id (or --file with a batch).');
          let expected: unknown;
          if (opts.expected !== undefined) {
            try {
              expected = JSON.parse(opts.expected);
            } catch {
              throw new UserError('--expected must be JSON, e.g. \'{"action":"reply","content":"..."}\'.');
            }
          }
          const r = await annotateItem(db, await ctx.temporal(), itemId, {
            reviewer: await reviewerOf(ctx, db, itemId),
            verdict: opts.verdict,
            category: opts.category,
            expected,
            comment: opts.comment,
            ...(opts.score.length ? { scores: pairs(opts.score, '--score') } : {}),
            ...(opts.dimension.length ? { dimensions: pairs(opts.dimension, '--dimension') } : {}),
            ...(opts.slice.length ? { slices: opts.slice } : {}),
          });
          console.log(
            `stored; ${r.itemId} has ${r.reviews}/${r.requiredReviews} review(s)${r.queueCompleted ? ' — quorum reached, the cycle moves on' : ''}`,
          );
        },
      ),
    );

  const scoreConfig = program.command('score-config').description('what reviewers score besides the verdict');
  scoreConfig
    .command('list')
    .option('--agent <agent>', "an agent's configs and the global ones")
    .option('--archived', 'include archived configs')
    .action(
      action(async (ctx, opts: { agent?: string; archived?: boolean }) => {
        const configs = await listScoreConfigs(await ctx.database(), {
          ...(opts.agent ? { agent: opts.agent } : {}),
          includeArchived: opts.archived ?? false,
        });
        for (const c of configs) {
          const shape =
            c.dataType === 'NUMERIC'
              ? `[${c.minValue ?? '-∞'}, ${c.maxValue ?? '∞'}]`
              : c.dataType === 'CATEGORICAL'
                ? (c.categories ?? []).map((x) => `${x.label}=${x.value}`).join(' ')
                : 'true/false';
          console.log(
            `${c.id.padEnd(40)} ${c.dataType.padEnd(11)} ${shape}${c.isArchived ? ' (archived)' : ''}`,
          );
        }
      }),
    );
  scoreConfig
    .command('create')
    .requiredOption('--name <name>')
    .requiredOption('--type <type>', 'NUMERIC, CATEGORICAL or BOOLEAN')
    .option('--agent <agent>', 'scope it to one agent (default: global)')
    .option('--min <n>', 'NUMERIC minimum', Number)
    .option('--max <n>', 'NUMERIC maximum', Number)
    .option('--category <label=value>', 'a CATEGORICAL category (repeatable)', collect, [])
    .option('--description <text>')
    .action(
      action(
        async (
          ctx,
          opts: {
            name: string;
            type: string;
            agent?: string;
            min?: number;
            max?: number;
            category: string[];
            description?: string;
          },
        ) => {
          const categories = Object.entries(pairs(opts.category, '--category')).map(([label, value]) => ({
            label,
            value,
          }));
          const created = await createScoreConfig(await ctx.database(), {
            agent: opts.agent ?? null,
            name: opts.name,
            dataType: opts.type.toUpperCase(),
            minValue: opts.min,
            maxValue: opts.max,
            ...(categories.length ? { categories } : {}),
            description: opts.description,
          });
          console.log(`created score config ${created.id}`);
        },
      ),
    );
}
