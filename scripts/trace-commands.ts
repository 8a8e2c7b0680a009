import type { Command } from 'commander';
import {
  IMPORT_FORMATS,
  importTraces,
  ingestJsonl,
  type ImportFormat,
  type IngestReport,
} from '../traces/trace-ingest-service.js';
import { createTraceWriter, listTracePartitions } from '../traces/trace-storage-service.js';
import { applyTraceRetention, type RetentionReport } from '../traces/trace-retention-service.js';
import { readTextFile, type CliAction } from './cli-files.js';
import { UserError } from '../schemas/user-error.js';
import { agentIds } from '../registry/agent-service.js';

type Action = CliAction;

function printReport(report: IngestReport): void {
  console.log(
    `stored ${report.accepted} trace(s), ${report.duplicates} already present, ${report.rejected.length} rejected`,
  );
  for (const r of report.rejected) console.error(`  ${r.item}: ${r.error}`);
  if (report.rejected.length > 0) process.exitCode = 2;
}

function printRetention(report: RetentionReport): void {
  const verb = report.dryRun ? 'would delete' : 'deleted';
  for (const a of report.agents)
    console.log(
      `${a.agent}: keeps ${a.retentionDays} days (from ${a.keepFrom}); ${verb} ${a.deletedTraces} older trace(s)`,
    );
  for (const p of report.droppedPartitions)
    console.log(
      `${report.dryRun ? 'would drop' : 'dropped'} ${p.name}${p.traces === null ? '' : ` (${p.traces} traces)`}`,
    );
  if (report.droppedPartitions.length === 0)
    console.log("no partition is older than every agent's retention");
  for (const w of report.warnings) console.error(`warning: ${w}`);
}

/** Trace import and retention: the operator side of ingest (tokens: token-commands.ts). */
export function registerTraceCommands(program: Command, action: Action): void {
  program
    .command('ingest <file>')
    .description('import normalized JSONL traces; good lines are stored, bad lines reported by number')
    .action(
      action(async (ctx, file: string) => {
        const db = await ctx.database();
        printReport(
          await ingestJsonl(
            { db, writer: createTraceWriter(db), registeredAgentsOnly: true },
            readTextFile(file),
          ),
        );
      }),
    );

  program
    .command('import <file>')
    .description(`import traces from another format (${IMPORT_FORMATS.join(', ')}); idempotent by trace id`)
    .requiredOption('--agent <agent>', 'agent the traces belong to')
    .option('--format <format>', `one of ${IMPORT_FORMATS.join(', ')}`, 'jsonl')
    .option('--source <name>', 'source label in trace ids (tau-bench), e.g. gpt-4o-airline')
    .option('--model <model>', 'model that produced the traces, when the file does not say')
    .action(
      action(
        async (
          ctx,
          file: string,
          opts: { agent: string; format: string; source?: string; model?: string },
        ) => {
          if (!(IMPORT_FORMATS as readonly string[]).includes(opts.format))
            throw new UserError(`Unknown format "${opts.format}"; use one of ${IMPORT_FORMATS.join(', ')}.`);
          const db = await ctx.database();
          if (!(await agentIds(db)).includes(opts.agent))
            throw new UserError(
              `No agent "${opts.agent}" is registered. Register it first (flywheel agent create ${opts.agent}), then import again; flywheel agent list shows the registered ones.`,
            );
          const report = await importTraces(
            { db, writer: createTraceWriter(db) },
            opts.format as ImportFormat,
            readTextFile(file),
            {
              agent: opts.agent,
              now: new Date(),
              source: opts.source ?? file.replace(/^.*\//, '').replace(/\.[^.]+$/, ''),
              ...(opts.model ? { model: opts.model } : {}),
            },
          );
          printReport(report);
        },
      ),
    );

  const traces = program.command('traces').description('trace storage');
  traces
    .command('partitions')
    .description('list the daily trace partitions')
    .action(
      action(async (ctx) => {
        for (const p of await listTracePartitions(await ctx.database())) console.log(p.day);
      }),
    );
  traces
    .command('retention')
    .description(
      "apply retention now (it also runs daily on the flywheel-trace-retention schedule): delete each agent's traces older than its retentionDays, drop the daily partitions no agent keeps",
    )
    .option('--days <n>', 'keep this many days for every agent instead of their settings', (v) => Number(v))
    .option('--dry-run', 'say what would go, remove nothing')
    .action(
      action(async (ctx, opts: { days?: number; dryRun?: boolean }) => {
        const report = await applyTraceRetention(await ctx.database(), {
          now: new Date(),
          days: opts.days,
          dryRun: opts.dryRun ?? false,
        });
        printRetention(report);
      }),
    );
}
