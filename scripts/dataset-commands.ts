import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../schemas/user-error.js';
import { principalLabel } from '../schemas/principal.js';
import { actingPerson, refusingIdentityOptions } from './cli-identity.js';
import { lineageTree, renderLineageTree, type LineageGraph } from '../registry/lineage-graph.js';
import {
  datasetAgent,
  diffVersions,
  exportVersion,
  importExamples,
  listVersions,
  retireExamples,
  showVersion,
} from '../datasets/dataset-service.js';
import { lineageOf } from '../registry/lineage-service.js';
import { EXPORT_FORMATS, ExportFormat } from '../datasets/fine-tune-export.js';
import { exportTrainingFile } from '../datasets/training-export-service.js';
import type { CliContext } from './cli-context.js';

type Action = <A extends unknown[]>(
  fn: (ctx: CliContext, ...args: A) => Promise<void>,
) => (...args: A) => Promise<void>;

const json = (v: unknown) => console.log(JSON.stringify(v, null, 2));

/** The text form of `lineage`: upstream and downstream trees of the asked-about node. */
export function renderLineage(graph: LineageGraph): string {
  const up = lineageTree(graph, 'upstream');
  const down = lineageTree(graph, 'downstream');
  return [
    'came from (upstream):',
    up.children.length
      ? renderLineageTree(up)
      : `  ${up.node.kind} ${up.node.ref}: nothing recorded upstream`,
    '',
    'became (downstream):',
    down.children.length
      ? renderLineageTree(down)
      : `  ${down.node.kind} ${down.node.ref}: nothing recorded downstream`,
  ].join('\n');
}

/** `flywheel dataset …` and `flywheel lineage`. */
export function registerDatasetCommands(program: Command, action: Action): void {
  const dataset = program
    .command('dataset')
    .description('versioned datasets: list, show, diff, export, import, retire');

  dataset
    .command('list')
    .description('dataset versions with their split sizes')
    .option('--agent <agent>', 'only this agent')
    .option('--json', 'print JSON')
    .action(
      action(async (ctx, opts: { agent?: string; json?: boolean }) => {
        const versions = await listVersions(await ctx.database(), opts.agent);
        if (opts.json) return json(versions);
        if (versions.length === 0)
          return console.log('no dataset versions yet: a cycle or `dataset import` creates one');
        for (const v of versions)
          console.log(
            `${v.datasetVersionId}  ${v.agent}/${v.dataset} v${v.version}  train ${v.train} · eval ${v.eval} · holdout ${v.holdout}` +
              `  ${v.publishedAt ? 'published' : 'draft'}  ${v.cycleId ?? v.createdBy}  ${v.note}`,
          );
      }),
    );

  dataset
    .command('show <version>')
    .description('counts per split and slice, decontamination report and lineage summary')
    .option('--json', 'print JSON')
    .action(
      action(async (ctx, ref: string, opts: { json?: boolean }) => {
        const d = await showVersion(await ctx.database(), ref);
        if (opts.json) return json(d);
        console.log(`${d.datasetVersionId}  (${d.agent}/${d.dataset} v${d.version})`);
        console.log(
          `  parent ${d.parent ?? '—'} · cycle ${d.cycleId ?? '—'} · by ${d.createdBy} · ${d.note}`,
        );
        console.log(`  ${d.publishedAt ? `published ${d.publishedAt.toISOString()} (immutable)` : 'draft'}`);
        console.log(
          `  splits: train ${d.splits.train} · eval ${d.splits.eval} · holdout ${d.splits.holdout}`,
        );
        console.log('  slices (train / eval / holdout):');
        for (const s of d.slices) console.log(`    ${s.slice}: ${s.train} / ${s.eval} / ${s.holdout}`);
        const report = d.decontamination;
        const moved = 'movedFromGating' in report ? report.movedFromGating : [];
        const pairs = 'nearDuplicates' in report ? report.nearDuplicates : [];
        console.log(
          `  decontamination: ${moved.length} moved out of eval/holdout in this version, ${pairs.length} near-duplicate pair(s)` +
            `${'runsChecked' in report ? `, ${report.runsChecked} optimization run(s) checked` : ''}; ${d.excludedFromGating} example(s) excluded from gating in total`,
        );
        for (const m of moved) console.log(`    ${m.key}: ${m.from} → ${m.to} (${m.reason}: ${m.detail})`);
        for (const p of pairs)
          console.log(
            `    ${p.a} (${p.aSplit}) ≈ ${p.b} (${p.bSplit}) similarity ${p.similarity.toFixed(2)}${p.moved ? `, moved ${p.moved}` : ''}`,
          );
        const l = d.lineage;
        console.log(
          `  lineage: ${l.fromTraces} from traces, ${l.imported} imported, ${l.annotated} annotated, ${l.clusters} cluster(s); trained on by ${l.runsTrainedOn.join(', ') || 'no run yet'}`,
        );
        for (const c of l.byCycle) console.log(`    ${c.cycleId ?? '(no cycle)'}: ${c.examples}`);
        for (const r of d.retired) console.log(`  retired ${r.key}: ${r.reason} (by ${r.retiredBy})`);
      }),
    );

  dataset
    .command('diff <from> <to>')
    .description('added, removed and changed examples and split moves between two versions')
    .option('--json', 'print JSON')
    .action(
      action(async (ctx, from: string, to: string, opts: { json?: boolean }) => {
        const d = await diffVersions(await ctx.database(), from, to);
        if (opts.json) return json(d);
        console.log(
          `${d.from} → ${d.to}: +${d.added.length} −${d.removed.length} ~${d.changed.length}, ${d.splitMoves.length} split move(s), ${d.unchanged} unchanged`,
        );
        for (const a of d.added) console.log(`  + ${a.key} (${a.split})`);
        for (const r of d.removed) console.log(`  - ${r.key} (${r.split})${r.reason ? `: ${r.reason}` : ''}`);
        for (const c of d.changed) console.log(`  ~ ${c.key}: ${c.fields.join(', ')}`);
        for (const m of d.splitMoves)
          console.log(`  > ${m.key}: ${m.from} → ${m.to}${m.why ? ` (${m.why})` : ''}`);
      }),
    );

  dataset
    .command('export <version>')
    .description(
      'JSONL, one example per line with its lineage; --format openai-sft|openai-dpo|hf-chat writes a training file from the train split',
    )
    .option('--out <file>', 'write to a file instead of stdout')
    .option(
      '--format <format>',
      `jsonl (the dataset itself, every split) or a training file: ${EXPORT_FORMATS.join(', ')}`,
      'jsonl',
    )
    .option('--cluster <stableId>', 'training files: only examples from this failure cluster')
    .option(
      '--system-prompt <which>',
      'training files: production (prepend the production prompt) or none',
      'production',
    )
    .option(
      '--no-lineage',
      'training files: leave out the per-row metadata (for trainers that refuse unknown keys)',
    )
    .action(
      action(
        async (
          ctx,
          ref: string,
          opts: { out?: string; format: string; cluster?: string; systemPrompt: string; lineage: boolean },
        ) => {
          const write = (text: string, what: string) => {
            if (!opts.out) return void process.stdout.write(text);
            writeFileSync(opts.out, text);
            console.error(`wrote ${what} to ${opts.out}`);
          };
          if (opts.format === 'jsonl') {
            if (opts.cluster)
              throw new UserError(
                '--cluster applies to training files: add --format openai-sft, openai-dpo or hf-chat.',
              );
            const rows = await exportVersion(await ctx.database(), ref);
            return write(
              rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''),
              `${rows.length} example(s)`,
            );
          }
          const format = ExportFormat.safeParse(opts.format);
          if (!format.success)
            throw new UserError(
              `Unknown --format "${opts.format}": use jsonl, ${EXPORT_FORMATS.join(', ')}.`,
            );
          if (opts.systemPrompt !== 'production' && opts.systemPrompt !== 'none')
            throw new UserError(`--system-prompt must be production or none (got "${opts.systemPrompt}").`);
          const result = await exportTrainingFile(await ctx.database(), ref, {
            format: format.data,
            clusterStableId: opts.cluster,
            systemPrompt: opts.systemPrompt,
            withoutLineage: !opts.lineage,
          });
          write(
            result.rows.map((r) => JSON.stringify(r)).join('\n') + (result.rows.length ? '\n' : ''),
            `${result.rows.length} ${format.data} row(s)`,
          );
          // What was left out and why goes to stderr, so stdout stays a clean training file.
          const w = result.withheld;
          console.error(
            `${result.datasetVersionId}: ${result.rows.length} row(s) from the train split; withheld ${w.notTrain} eval/holdout, ` +
              `${w.regressionSuite} regression-suite` +
              (opts.cluster ? `, ${w.otherCluster} of other clusters` : '') +
              ` example(s)` +
              (Object.keys(result.redactions).length
                ? `; redacted ${JSON.stringify(result.redactions)}`
                : ''),
          );
          for (const s of result.skipped) console.error(`  skipped ${s.key}: ${s.reason}`);
          if (result.rows.length === 0)
            console.error(
              'No rows: a training file needs train-split examples with a corrected step (see `flywheel dataset show` for the splits).',
            );
        },
      ),
    );

  refusingIdentityOptions(dataset.command('import <file>'))
    .description('import JSONL examples as a new version; bad lines are reported by number, good ones kept')
    .requiredOption('--agent <agent>', 'agent the dataset belongs to')
    .option('--dataset <name>', "dataset name (default: the agent's default dataset)")
    .action(
      action(async (ctx, file: string, opts: { agent: string; dataset?: string }) => {
        // What gates the agent's next release is an operator's call, made as who you signed in as.
        const by = await actingPerson(
          ctx,
          opts,
          { role: 'operator' },
          opts.agent,
          `import examples for ${opts.agent}`,
        );
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch {
          throw new UserError(`Cannot read ${file}: does the file exist?`);
        }
        const result = await importExamples(await ctx.database(), {
          agent: opts.agent,
          ...(opts.dataset ? { dataset: opts.dataset } : {}),
          text,
          createdBy: principalLabel(by),
          note: `imported from ${file.replace(/^.*\//, '')}`,
        });
        for (const e of result.errors) console.error(`  line ${e.line}: ${e.error}`);
        if (!result.version) throw new UserError(`No valid line in ${file}; no version was created.`);
        const v = result.version;
        console.log(
          `imported ${result.imported} example(s) into ${v.datasetVersionId}: train ${v.train} · eval ${v.eval} · holdout ${v.holdout}; ` +
            `${result.errors.length} line(s) rejected; ${v.decontamination.movedFromGating} moved out of gating, ${v.decontamination.nearDuplicates} near-duplicate pair(s)`,
        );
        if (result.keptSplit.length)
          console.log(`  kept the earlier split of ${result.keptSplit.join(', ')}`);
        if (result.errors.length > 0) process.exitCode = 2;
      }),
    );

  refusingIdentityOptions(dataset.command('retire <datasetOrVersion>'))
    .description('retire examples in a new version (the old version stays intact)')
    .option('--example <ids...>', 'example ids or keys')
    .option('--older-than <days>', 'examples first added more than DAYS ago', (v) => Number(v))
    .option('--cluster <stableId>', 'every example of a failure cluster (its stable id)')
    .action(
      action(async (ctx, ref: string, opts: { example?: string[]; olderThan?: number; cluster?: string }) => {
        const db = await ctx.database();
        const by = await actingPerson(
          ctx,
          opts,
          { role: 'operator' },
          await datasetAgent(db, ref),
          `retire examples of ${ref}`,
        );
        const { version, retired } = await retireExamples(db, {
          ref,
          ...(opts.example ? { exampleIds: opts.example } : {}),
          ...(opts.olderThan !== undefined ? { olderThanDays: opts.olderThan } : {}),
          ...(opts.cluster ? { clusterStableId: opts.cluster } : {}),
          createdBy: principalLabel(by),
          now: new Date(),
        });
        console.log(
          `retired ${retired.length} example(s) in ${version.datasetVersionId}: train ${version.train} · eval ${version.eval} · holdout ${version.holdout}`,
        );
        for (const r of retired) console.log(`  ${r.key}: ${r.reason}`);
      }),
    );

  program
    .command('lineage <id>')
    .description(
      'where an artifact came from and what it became: trace, cluster (or stable id), annotation, example, dataset version, candidate, gate report, decision, rollout or cycle id',
    )
    .option('--json', 'print the graph as JSON')
    .action(
      action(async (ctx, id: string, opts: { json?: boolean }) => {
        const graph = await lineageOf(await ctx.database(), id);
        if (!graph)
          throw new UserError(
            `Nothing is recorded under "${id}": pass a trace, cluster, annotation, dataset example or version, candidate, gate report, release decision, rollout or cycle id.`,
          );
        if (opts.json) return json(graph);
        console.log(renderLineage(graph));
      }),
    );
}
