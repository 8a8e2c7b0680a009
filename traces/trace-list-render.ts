import { formatDuration, oneLine, type TerminalStyle } from './terminal-style.js';
import type { TraceListItem, TraceListPage } from './trace-view.js';

/** Characters of the input and output previews on a list line. */
const PREVIEW = 100;

function feedbackMark(f: TraceListItem['feedback'], style: TerminalStyle): string | undefined {
  if (!f) return undefined;
  if (f.score > 0) return style.green('feedback +1');
  if (f.score < 0) return style.red('feedback -1');
  return 'feedback 0';
}

/** One trace as two lines: its facts, then what the user asked and what the agent did. */
export function renderTraceListItem(t: TraceListItem, style: TerminalStyle): string {
  const facts = [
    style.dim(t.timestamp.replace('T', ' ').replace(/\.\d+Z$/, 'Z')),
    t.agent,
    t.status === 'error' ? style.error() : style.green('ok'),
    t.outcome && (t.outcome === 'success' ? t.outcome : style.yellow(t.outcome)),
    feedbackMark(t.feedback, style),
    t.promptVersion !== undefined && `${t.promptName ?? t.agent} v${t.promptVersion}`,
    t.latencyMs !== undefined && formatDuration(t.latencyMs),
    style.bold(t.id),
  ].filter((x): x is string => typeof x === 'string' && x !== '');
  const output =
    t.output.action === 'respond'
      ? `"${oneLine(t.output.preview, PREVIEW)}"`
      : style.cyan(`→ ${oneLine(t.output.preview, PREVIEW)}`);
  return `${facts.join('  ')}\n    ${style.dim('user:')} "${oneLine(t.input, PREVIEW)}"  ${output}`;
}

/**
 * The page as text; `nextCommand` is how to ask for the next page (the CLI passes the same
 * command with the cursor), shown only when there is one.
 */
export function renderTraceList(
  page: TraceListPage,
  style: TerminalStyle,
  nextCommand?: (cursor: string) => string,
): string {
  if (page.traces.length === 0) return 'no traces match';
  const lines = page.traces.map((t) => renderTraceListItem(t, style));
  const errors = page.traces.filter((t) => t.status === 'error').length;
  lines.push(
    '',
    `${page.traces.length} trace(s)${errors ? `, ${errors} with errors` : ''}, newest first` +
      (page.nextCursor ? '; more are older' : ''),
  );
  if (page.nextCursor && nextCommand) lines.push(`next page: ${nextCommand(page.nextCursor)}`);
  return lines.join('\n');
}
