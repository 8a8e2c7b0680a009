import type { Command } from 'commander';
import { TRACE_FEEDBACK_FILTERS } from '../schemas/trace-list-query.js';
import { UserError } from '../schemas/user-error.js';
import { terminalStyle } from '../traces/terminal-style.js';
import { renderTraceDetail } from '../traces/trace-detail-render.js';
import { renderTraceList } from '../traces/trace-list-render.js';
import { listTraces, showTrace } from '../traces/trace-viewer-service.js';
import type { CliAction } from './cli-files.js';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A --from/--to value as the API takes it: an ISO time or date passes unchanged; `30m`, `24h`
 * or `7d` mean that long before `now`.
 */
export function cliInstant(value: string | undefined, now: Date): string | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{1,6})([mhd])$/.exec(value.trim());
  if (!m) return value;
  return new Date(now.getTime() - Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]).toISOString();
}

/** The same command line with `--cursor` set to the next page's cursor. */
export function nextPageCommand(args: readonly string[], cursor: string): string {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--cursor') i++;
    else if (!a.startsWith('--cursor='))
      kept.push(/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  }
  return `flywheel ${[...kept, '--cursor', cursor].join(' ')}`;
}

/** Escape codes only for a terminal, and never when NO_COLOR is set (FORCE_COLOR overrides both). */
function colorWanted(): boolean {
  const force = process.env.FORCE_COLOR;
  if (force !== undefined) return force !== '0';
  return process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
}

interface ListOptions {
  agent?: string;
  from?: string;
  to?: string;
  status?: string;
  outcome?: string;
  feedback?: string;
  cluster?: string;
  promptName?: string;
  promptVersion?: string;
  search?: string;
  coaching?: string;
  limit?: string;
  cursor?: string;
  json?: boolean;
}

/** `flywheel trace list` and `flywheel trace show`: the trace viewer in a terminal. */
export function registerTraceViewerCommands(program: Command, action: CliAction): void {
  const trace = program.command('trace').description('look at stored traces: list with filters, show one');
  trace
    .command('list')
    .description('traces newest first, with filters; errors are marked ✗ ERROR')
    .option('--agent <agent>', 'only this agent')
    .option('--from <time>', 'started at or after: ISO time, date, or 30m / 24h / 7d ago')
    .option('--to <time>', 'started before: ISO time, date, or 30m / 24h / 7d ago')
    .option('--status <status>', 'ok or error')
    .option('--outcome <outcome>', 'success, failure, escalated or error')
    .option('--feedback <kind>', TRACE_FEEDBACK_FILTERS.join(', '))
    .option(
      '--cluster <id>',
      'cluster id or stable cluster id (of the latest cycle that clustered the trace)',
    )
    .option('--prompt-name <name>', 'prompt name (a trace without one counts as the agent’s own prompt)')
    .option('--prompt-version <n>', 'prompt version that served the trace')
    .option('--search <text>', 'text in the input or output (case-insensitive)')
    .option(
      '--coaching <id>',
      'traces that applied this coaching (coa_…, any version; coa_…@3 for one), or any / none',
    )
    .option('--limit <n>', 'traces per page (1-200, default 50)')
    .option('--cursor <cursor>', 'continue after the page that printed it')
    .option('--json', 'print the page as JSON, as GET /api/traces answers')
    .action(
      action(async (ctx, opts: ListOptions) => {
        const now = new Date();
        const page = await listTraces(await ctx.database(), {
          agent: opts.agent,
          from: cliInstant(opts.from, now),
          to: cliInstant(opts.to, now),
          status: opts.status,
          outcome: opts.outcome,
          feedback: opts.feedback,
          cluster: opts.cluster,
          promptName: opts.promptName,
          promptVersion: opts.promptVersion,
          q: opts.search,
          coaching: opts.coaching,
          limit: opts.limit,
          cursor: opts.cursor,
        });
        if (opts.json) return console.log(JSON.stringify(page, null, 2));
        console.log(
          renderTraceList(page, terminalStyle(colorWanted()), (cursor) =>
            nextPageCommand(process.argv.slice(2), cursor),
          ),
        );
      }),
    );
  trace
    .command('show <id>')
    .description('one trace: transcript, span tree with timings and events, scores, annotations, lineage')
    .option('--full', 'do not cut long messages, tool results or stack traces')
    .option('--json', 'print the trace as JSON, as GET /api/traces/:id answers')
    .action(
      action(async (ctx, id: string, opts: { full?: boolean; json?: boolean }) => {
        if (!id.trim())
          throw new UserError('Name the trace: flywheel trace show <id> (ids are in `flywheel trace list`).');
        const detail = await showTrace(await ctx.database(), id);
        if (opts.json) return console.log(JSON.stringify(detail, null, 2));
        console.log(renderTraceDetail(detail, terminalStyle(colorWanted()), { full: opts.full === true }));
      }),
    );
}
