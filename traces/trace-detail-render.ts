import type { ChatMessage } from '../schemas/trace.js';
import { renderSpanTree, type SpanRenderOptions } from './span-tree-render.js';
import { formatDuration, oneLine, type TerminalStyle } from './terminal-style.js';
import type { TraceDetail } from './trace-view.js';

/**
 * `flywheel trace show`: one trace as a reader follows it — what it is, the conversation and
 * the step the agent took, the span tree, then what Flywheel made of it (scores, reviewers'
 * labels, the cycles, clusters and dataset versions it went into).
 */

/** Characters of one message shown unless `full`. */
const MESSAGE_CHARS = 800;

const json = (value: unknown) => JSON.stringify(value) ?? 'undefined';

/** Multi-line text cut at `max` characters with how much was left out, as lines. */
function textLines(text: string, max: number): string[] {
  const cut =
    text.length > max ? `${text.slice(0, max)}… (+${text.length - max} chars; --full shows all)` : text;
  return cut.split('\n');
}

/** A heading with the text's first line beside it and the other lines indented under it. */
function headed(head: string, text: string, max: number): string[] {
  const [first = '', ...rest] = textLines(text, max);
  return [`${head} ${first}`.trimEnd(), ...rest.map((l) => `${INDENT}${l}`.trimEnd())];
}

/** Where message text continues: under the first line's text, past the role column. */
const INDENT = ' '.repeat(12);

function roleLabel(role: string, style: TerminalStyle): string {
  const padded = role.padEnd(9);
  if (role === 'user') return style.cyan(padded);
  if (role === 'assistant') return style.green(padded);
  if (role === 'tool') return style.yellow(padded);
  if (role === 'system') return style.dim(padded);
  return style.bold(padded);
}

function messageLines(m: ChatMessage, style: TerminalStyle, max: number): string[] {
  const head = [`  ${roleLabel(m.role, style)}`];
  // The framework's own role, when it was not one of the four (a CodeAgent's `tool-call`
  // and `tool-response`, a message without a role): reviewers read the step as it was.
  if (m.sourceRole !== undefined)
    head.push(style.dim(m.sourceRole === '' ? '[no role]' : `[${m.sourceRole}]`));
  if (m.name) head.push(style.bold(m.name));
  if (m.tool_call_id) head.push(style.dim(`(call ${m.tool_call_id})`));
  const calls = (m.tool_calls ?? []).map(
    (call) =>
      style.cyan(`→ ${call.name} ${oneLine(json(call.arguments), max)}`) +
      (call.id ? style.dim(` (call ${call.id})`) : ''),
  );
  // A message that only calls tools shows its first call beside the role.
  if (!m.content && calls.length > 0)
    return [`${head.join(' ')} ${calls[0]!}`, ...calls.slice(1).map((c) => `${INDENT}${c}`)];
  return [...headed(head.join(' '), m.content ?? '', max), ...calls.map((c) => `${INDENT}${c}`)];
}

function actionLines(
  title: string,
  a: TraceDetail['transcript']['output'],
  style: TerminalStyle,
  max: number,
) {
  const head = `  ${style.bold(title.padEnd(9))}`;
  if (a.action === 'respond') return headed(head, a.content ?? '', max);
  return [
    `${head} ${style.cyan(`→ ${a.action} ${oneLine(json(a.arguments), max)}`)}`,
    ...(a.content ? textLines(a.content, max).map((l) => `${INDENT}${l}`.trimEnd()) : []),
  ];
}

function headerLines(t: TraceDetail['trace'], d: TraceDetail, style: TerminalStyle): string[] {
  const about = [
    `agent ${t.agent}`,
    t.promptVersion !== undefined && `prompt ${t.promptName ?? t.agent} v${t.promptVersion}`,
    t.model && `model ${t.model}`,
  ].filter(Boolean);
  const timing = [
    `started ${t.timestamp}`,
    t.endTimestamp && `ended ${t.endTimestamp}`,
    t.latencyMs !== undefined && `latency ${formatDuration(t.latencyMs)}`,
    t.usage && `tokens in ${t.usage.inputTokens ?? '?'} / out ${t.usage.outputTokens ?? '?'}`,
    t.costUsd !== undefined && `cost $${t.costUsd.toFixed(4)}`,
  ].filter(Boolean);
  const verdict = [
    t.status === 'error' ? style.error() : style.green('status ok'),
    t.outcome && `outcome ${t.outcome === 'success' ? t.outcome : style.yellow(t.outcome)}`,
    t.feedback &&
      `feedback ${t.feedback.score > 0 ? style.green('+1') : t.feedback.score < 0 ? style.red('-1') : '0'}` +
        (t.feedback.text ? ` "${oneLine(t.feedback.text, 200)}"` : ''),
    t.reward !== undefined && `reward ${t.reward}`,
  ].filter(Boolean);
  const who = [t.sessionId && `session ${t.sessionId}`, t.userId && `user ${t.userId}`].filter(Boolean);
  const redacted = Object.entries(d.redactions).map(([k, n]) => `${n} ${k}`);
  return [
    `${style.bold(`trace ${t.id}`)}  ${about.join(', ')}`,
    `  ${timing.join('  ')}`,
    `  ${verdict.join('  ')}`,
    ...(who.length ? [`  ${who.join('  ')}`] : []),
    ...(redacted.length ? [style.dim(`  PII redacted in this view: ${redacted.join(', ')}`)] : []),
  ];
}

function scoreLines(d: TraceDetail, style: TerminalStyle): string[] {
  if (d.scores.length === 0) return ['  none yet: scores are written when a cycle samples the trace'];
  return d.scores.map((s) => {
    const verdict =
      s.label === 'fail' ? style.red('fail') : s.label === 'pass' ? style.green('pass') : s.label;
    return (
      `  ${s.dimension.padEnd(20)} ${verdict} ${s.value.toFixed(2)}  ${style.dim(`${s.source} ${s.evaluator}, ${s.cycleId ?? 'online evaluation'}`)}` +
      (s.category ? `  [${s.category}]` : '') +
      (s.explanation ? `\n      ${oneLine(s.explanation, 300)}` : '')
    );
  });
}

function annotationLines(d: TraceDetail, style: TerminalStyle): string[] {
  if (d.annotations.length === 0) return ['  not queued for review'];
  return d.annotations.flatMap((a) => [
    `  item ${a.itemId} ${style.dim(`(${a.cycleId}${a.clusterId ? `, cluster ${a.clusterId}` : ''})`)}  ${a.status}` +
      `  judge ${a.judgeLabel}${a.judgeCategory ? ` [${a.judgeCategory}]` : ''}` +
      (a.consensusVerdict ? `  consensus ${a.consensusVerdict}` : ''),
    ...a.labels.map(
      (l) =>
        `      ${l.reviewer}: ${l.verdict === 'fail' ? style.red('fail') : style.green(l.verdict)}` +
        (l.category ? ` [${l.category}]` : '') +
        (l.slices.length ? ` slices ${l.slices.join(', ')}` : '') +
        (l.comment ? ` "${oneLine(l.comment, 200)}"` : '') +
        (l.expected !== null && l.expected !== undefined
          ? style.dim(` expected ${oneLine(json(l.expected), 200)}`)
          : ''),
    ),
  ]);
}

function lineageLines(d: TraceDetail, style: TerminalStyle): string[] {
  const l = d.lineage;
  const lines: string[] = [];
  if (l.promptVersion)
    lines.push(
      `  produced by prompt ${l.promptVersion.name} v${l.promptVersion.version} ${style.dim(`(${l.promptVersion.id})`)}`,
    );
  for (const s of l.samples)
    lines.push(
      `  sampled by ${s.cycleId} (${s.reasons.join(', ')})  ${style.dim(`stage ${s.stage}, ${s.outcome}`)}`,
    );
  for (const c of l.clusters)
    lines.push(
      `  clustered into ${c.stableId ?? c.clusterId} "${c.name}" ${c.category}${c.noise ? ' (nearest, as noise)' : ''} in ${c.cycleId}` +
        (c.latest ? style.bold('  ← latest') : ''),
    );
  for (const e of l.datasetExamples)
    lines.push(
      `  in dataset ${e.dataset} v${e.version} (${e.split}${e.slices.length ? `, ${e.slices.join(', ')}` : ''}${e.published ? '' : ', draft'}) ${style.dim(`as ${e.exampleId}`)}`,
    );
  if (lines.length === 0) lines.push('  no cycle has sampled it yet');
  lines.push(style.dim(`  the whole graph: flywheel lineage ${d.trace.id}`));
  return lines;
}

export function renderTraceDetail(d: TraceDetail, style: TerminalStyle, o: SpanRenderOptions): string {
  const max = o.full ? Infinity : MESSAGE_CHARS;
  const section = (title: string) => ['', style.bold(title)];
  return [
    ...headerLines(d.trace, d, style),
    ...section(`Transcript (${d.transcript.messages.length} message(s) and the step taken)`),
    ...d.transcript.messages.flatMap((m) => messageLines(m, style, max)),
    ...actionLines('⇒ output', d.transcript.output, style, max),
    ...(d.transcript.expected ? actionLines('expected', d.transcript.expected, style, max) : []),
    ...section(`Spans (${d.spans.spanCount}, ${formatDuration(d.spans.durationMs)})`),
    ...renderSpanTree(d.spans, style, o),
    ...section(`Scores (${d.scores.length})`),
    ...scoreLines(d, style),
    ...section('Annotations'),
    ...annotationLines(d, style),
    ...section('Lineage'),
    ...lineageLines(d, style),
  ].join('\n');
}
