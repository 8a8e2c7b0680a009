import type { SpanEvent } from '../schemas/trace.js';
import { isoToNanos, nanosDiffMs } from './otlp-time.js';
import type { SpanTree, SpanTreeNode } from './span-tree.js';
import { formatDuration, oneLine, type TerminalStyle } from './terminal-style.js';

/**
 * The span tree as terminal lines: a waterfall bar and the span's offset and duration in
 * fixed columns on the left, the tree on the right, and under each span what a reader needs
 * to follow the run: its error, the model's tool calls or reply, a tool's arguments and
 * result, events (an exception's type, message and first stack lines) and links.
 */

export interface SpanRenderOptions {
  /** Keep long texts and whole stack traces instead of cutting them. */
  full: boolean;
}

const BAR = 20;
/** Stack trace lines shown under an exception unless `full`. */
const STACK_LINES = 3;
const DETAIL_CHARS = 160;

function bar(node: SpanTreeNode, total: number): string {
  if (total <= 0) return `[${'█'.repeat(BAR)}]`;
  const start = Math.min(BAR - 1, Math.floor((node.offsetMs / total) * BAR));
  const length = Math.max(1, Math.min(BAR - start, Math.round((node.durationMs / total) * BAR)));
  return `[${' '.repeat(start)}${'█'.repeat(length)}${' '.repeat(BAR - start - length)}]`;
}

const kindColor = (kind: string, style: TerminalStyle) =>
  kind === 'llm'
    ? style.cyan(kind)
    : kind === 'tool'
      ? style.yellow(kind)
      : kind === 'agent'
        ? style.bold(kind)
        : style.dim(kind);

const json = (value: unknown) => JSON.stringify(value) ?? 'undefined';

function label(n: SpanTreeNode, style: TerminalStyle): string {
  const parts = [kindColor(n.kind, style), style.bold(n.name || '(unnamed)')];
  // Instrumentations often name a model call after its model ("chat gpt-4o"): say it once.
  if (n.model && !(n.name ?? '').includes(n.model)) parts.push(style.dim(n.model));
  if (n.otelKind && n.otelKind !== 'internal') parts.push(style.dim(`[${n.otelKind}]`));
  if (n.status === 'error') parts.push(style.error());
  if (n.orphan) parts.push(style.dim(`(parent ${n.parentSpanId ?? '?'} is not in this trace)`));
  if (n.scope) parts.push(style.dim(`· ${n.scope.name}${n.scope.version ? ` ${n.scope.version}` : ''}`));
  return parts.join(' ');
}

function eventLines(
  e: SpanEvent,
  origin: bigint | undefined,
  style: TerminalStyle,
  o: SpanRenderOptions,
): string[] {
  let at = '';
  if (e.time && origin !== undefined) {
    try {
      at = `  at +${formatDuration(nanosDiffMs(origin, isoToNanos(e.time)))}`;
    } catch {
      at = `  at ${e.time}`;
    }
  }
  const attr = (k: string) => {
    const v = e.attributes[k];
    return v === undefined || v === null ? undefined : typeof v === 'string' ? v : json(v);
  };
  if (e.name === 'exception') {
    const type = attr('exception.type') ?? 'exception';
    const message = attr('exception.message');
    const lines = [
      style.red(`✗ ${type}${message ? `: ${oneLine(message, o.full ? Infinity : DETAIL_CHARS)}` : ''}`) +
        style.dim(at),
    ];
    const stack = (attr('exception.stacktrace') ?? '').split('\n').filter((l) => l.trim() !== '');
    const shown = o.full ? stack : stack.slice(0, STACK_LINES);
    for (const l of shown) lines.push(style.dim(`    ${l.trimEnd()}`));
    if (shown.length < stack.length)
      lines.push(style.dim(`    … ${stack.length - shown.length} more stack line(s)`));
    return lines;
  }
  const rest =
    Object.keys(e.attributes).length > 0
      ? ` ${oneLine(json(e.attributes), o.full ? Infinity : DETAIL_CHARS)}`
      : '';
  return [`• ${e.name || '(event)'}${style.dim(at)}${rest}`];
}

function details(
  n: SpanTreeNode,
  origin: bigint | undefined,
  style: TerminalStyle,
  o: SpanRenderOptions,
): string[] {
  const cut = (text: string) => oneLine(text, o.full ? Infinity : DETAIL_CHARS);
  const out: string[] = [];
  if (n.status === 'error' && n.statusMessage) out.push(style.error(cut(n.statusMessage)));
  if (n.usage && (n.usage.inputTokens !== undefined || n.usage.outputTokens !== undefined))
    out.push(style.dim(`tokens in ${n.usage.inputTokens ?? '?'} / out ${n.usage.outputTokens ?? '?'}`));
  for (const m of n.outputMessages ?? []) {
    for (const call of m.tool_calls ?? [])
      out.push(style.cyan(`→ ${call.name} ${cut(json(call.arguments))}`));
    if (m.content) out.push(`reply: "${cut(m.content)}"`);
  }
  if (n.tool) {
    if (n.tool.arguments !== undefined) out.push(`args ${cut(json(n.tool.arguments))}`);
    if (n.tool.result !== undefined)
      out.push(`result ${n.tool.result === '' ? style.dim('(empty)') : cut(n.tool.result)}`);
  }
  if (!n.tool && !n.outputMessages?.length) {
    if (n.input !== undefined) out.push(style.dim(`input ${cut(n.input)}`));
    if (n.output !== undefined) out.push(style.dim(`output ${cut(n.output)}`));
  }
  if (n.retrievals?.length)
    out.push(
      `${n.retrievals.length} document(s): ${cut(n.retrievals.map((d) => d.id ?? d.content).join(' | '))}`,
    );
  for (const e of n.events ?? []) out.push(...eventLines(e, origin, style, o));
  for (const l of n.links ?? []) out.push(style.dim(`↗ link to trace ${l.traceId} span ${l.spanId}`));
  if (n.dropped) {
    const lost = Object.entries(n.dropped)
      .filter(([, v]) => v !== undefined && v > 0)
      .map(([k, v]) => `${v} ${k}`);
    if (lost.length > 0) out.push(style.yellow(`dropped before storage: ${lost.join(', ')}`));
  }
  return out;
}

export function renderSpanTree(tree: SpanTree, style: TerminalStyle, o: SpanRenderOptions): string[] {
  if (tree.spanCount === 0) return ['(no spans: the trace was sent as one record)'];
  let origin: bigint | undefined;
  try {
    origin = tree.startTime ? isoToNanos(tree.startTime) : undefined;
  } catch {
    origin = undefined;
  }
  const columns = (n: SpanTreeNode) =>
    `${style.dim(bar(n, tree.durationMs))} ${`+${formatDuration(n.offsetMs)}`.padStart(10)} ${formatDuration(n.durationMs).padStart(9)}  `;
  const blank = ' '.repeat(BAR + 2 + 1 + 10 + 1 + 9 + 2);
  const lines: string[] = [];
  const walk = (n: SpanTreeNode, prefix: string, last: boolean, root: boolean) => {
    const connector = root ? '' : last ? '└─ ' : '├─ ';
    lines.push(`${columns(n)}${style.dim(prefix + connector)}${label(n, style)}`);
    const below = prefix + (root ? '' : last ? '   ' : '│  ');
    const lead = style.dim(below + (n.children.length > 0 ? '│ ' : '  '));
    for (const d of details(n, origin, style, o)) lines.push(`${blank}${lead} ${d}`);
    n.children.forEach((c, i) => walk(c, below, i === n.children.length - 1, false));
  };
  for (const r of tree.roots) walk(r, '', true, true);
  return lines;
}
