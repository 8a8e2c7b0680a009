import type { Command } from 'commander';
import {
  createPrompt,
  diffPrompt,
  labelPrompt,
  listPromptSummaries,
  rollbackPrompt,
  showPrompt,
} from '../registry/prompt-service.js';
import { readJsonFile, readTextFile, type CliAction } from './cli-files.js';
import { UserError } from '../schemas/user-error.js';
import { principalLabel } from '../schemas/principal.js';
import { resourceOwners } from '../registry/resource-owner-service.js';
import type { Db } from '../db/connection.js';
import { actingPerson, refusingIdentityOptions } from './cli-identity.js';

/** The agent owning prompt `name`, for per-agent roles; null when no prompt has that name. */
const ownerOf = async (db: Db, name: string) => (await resourceOwners.prompt(db, name)) ?? null;

type Action = CliAction;

const collect = (value: string, previous: string[] = []) => [...previous, value];

function printMove(answer: {
  changed: boolean;
  move: {
    name: string;
    label: string;
    from: { version: number } | null;
    to: { version: number } | null;
  } | null;
  webhook: { delivered: boolean; url: string | null; error: string | null } | null;
}): void {
  if (!answer.changed || !answer.move)
    return console.log('nothing to change: the label already points there');
  const { name, label, from, to } = answer.move;
  console.log(
    `${name}: ${label} ${from ? `v${from.version}` : '(none)'} → ${to ? `v${to.version}` : '(none)'}`,
  );
  if (answer.webhook?.url)
    console.log(
      answer.webhook.delivered ? 'announced on the webhook' : `webhook failed: ${answer.webhook.error}`,
    );
}

/** The prompt registry: versions, labels, rollback and diffs (the same operations as /api/prompts). */
export function registerPromptCommands(program: Command, action: Action): void {
  const prompt = program.command('prompt').description('prompt registry: versions, labels, rollback, diff');

  prompt
    .command('list')
    .description('every prompt with its versions, labels and latest version')
    .option('--agent <agent>', 'only the prompts of this agent')
    .action(
      action(async (ctx, opts: { agent?: string }) => {
        const prompts = await listPromptSummaries(await ctx.database(), opts.agent);
        if (prompts.length === 0) return console.log('no prompts yet');
        for (const p of prompts) {
          const labels = Object.entries(p.labels)
            .map(([l, v]) => `${l}=v${v}`)
            .join(' ');
          console.log(`${p.name}  (${p.type}, agent ${p.agent}, ${p.versions} versions)  ${labels}`);
        }
      }),
    );

  prompt
    .command('show <name>')
    .description('one version as JSON (default: the production label)')
    .option('--version <n>', 'version number')
    .option('--label <label>', 'label, e.g. production, candidate, latest')
    .action(
      action(async (ctx, name: string, opts: { version?: string; label?: string }) => {
        console.log(
          JSON.stringify(
            await showPrompt(await ctx.database(), name, { version: opts.version, label: opts.label }),
            null,
            2,
          ),
        );
      }),
    );

  prompt
    .command('diff <name> <from> <to>')
    .description('unified line diff between two versions (numbers or labels)')
    .action(
      action(async (ctx, name: string, from: string, to: string) => {
        const d = await diffPrompt(await ctx.database(), name, from, to);
        process.stdout.write(d.diff || `v${d.from.version} and v${d.to.version} have the same text\n`);
      }),
    );

  refusingIdentityOptions(prompt.command('label <name> <version> <label>'))
    .description('point a label at a version (audited and announced on the agent webhook)')
    .option('--reason <text>', 'why')
    .action(
      action(async (ctx, name: string, version: string, label: string, opts: { reason?: string }) => {
        if (!/^\d+$/.test(version)) throw new UserError(`version must be a number, got "${version}".`);
        const db = await ctx.database();
        const by = await actingPerson(
          ctx,
          opts,
          { role: 'operator' },
          await ownerOf(db, name),
          `move a label of ${name}`,
        );
        printMove(
          await labelPrompt(db, name, {
            label,
            version: Number(version),
            actor: principalLabel(by),
            ...(opts.reason ? { reason: opts.reason } : {}),
          }),
        );
      }),
    );

  refusingIdentityOptions(prompt.command('rollback <name>'))
    .description('move a label back (default: production, to where it pointed before its last move)')
    .option('--label <label>', 'label to move back', 'production')
    .option('--to <n>', 'version to go back to')
    .requiredOption('--reason <text>', 'why')
    .action(
      action(async (ctx, name: string, opts: { label: string; to?: string; reason: string }) => {
        if (opts.to !== undefined && !/^\d+$/.test(opts.to))
          throw new UserError(`--to must be a version number, got "${opts.to}".`);
        const db = await ctx.database();
        const by = await actingPerson(
          ctx,
          opts,
          { role: 'operator' },
          await ownerOf(db, name),
          `roll back ${name}`,
        );
        printMove(
          await rollbackPrompt(db, name, {
            label: opts.label,
            ...(opts.to !== undefined ? { to: Number(opts.to) } : {}),
            actor: principalLabel(by),
            reason: opts.reason,
          }),
        );
      }),
    );

  refusingIdentityOptions(prompt.command('create <name>'))
    .description(
      'register a new version from a file (text, or a JSON [{role, content}] list with --type chat)',
    )
    .requiredOption('--file <file>', 'the prompt text, or the chat messages as JSON')
    .option('--type <type>', 'text or chat', 'text')
    .option(
      '--agent <agent>',
      'owning agent (default: the existing owner, or the agent named like the prompt)',
    )
    .option('--config <file>', 'JSON object of model parameters')
    .option('--label <label>', 'label to point at the new version (repeatable)', collect)
    .option('--tag <tag>', 'tag (repeatable)', collect)
    .option('--message <text>', 'commit message')
    .action(
      action(
        async (
          ctx,
          name: string,
          opts: {
            file: string;
            type: string;
            agent?: string;
            config?: string;
            label?: string[];
            tag?: string[];
            message?: string;
          },
        ) => {
          const body = {
            name,
            type: opts.type,
            prompt: opts.type === 'chat' ? readJsonFile(opts.file, 'chat messages') : readTextFile(opts.file),
            ...(opts.agent ? { agent: opts.agent } : {}),
            ...(opts.config ? { config: readJsonFile(opts.config, 'config') } : {}),
            labels: opts.label ?? [],
            tags: opts.tag ?? [],
            ...(opts.message ? { commitMessage: opts.message } : {}),
          };
          const db = await ctx.database();
          const owner = opts.agent ?? (await ownerOf(db, name)) ?? name;
          const by = await actingPerson(
            ctx,
            opts,
            { role: 'operator' },
            owner,
            `create a version of ${name}`,
          );
          const created = await createPrompt(db, { ...body, actor: principalLabel(by) });
          console.log(`created ${created.prompt.id} (labels: ${created.prompt.labels.join(', ') || 'none'})`);
        },
      ),
    );
}
