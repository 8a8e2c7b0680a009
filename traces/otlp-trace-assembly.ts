import {
  TraceRecord,
  type AgentAction,
  type ChatMessage,
  type Span,
  type TokenUsage,
} from '../schemas/trace.js';
import { isRecord, messagesFromJson, parseJsonish } from './otlp-message-decode.js';
import { nameToolArguments } from './trace-tool-arguments.js';
import { messagesFromGenAiEvents } from './genai-event-messages.js';
import { orderSpans } from './span-order.js';

/**
 * Trace-level fields derived from the spans of one trace. Spans of a trace arrive in
 * several requests and the trace is re-assembled each time, so the result depends only on
 * the set of spans (sorted here), never on their arrival order.
 */

export interface TraceAssemblyInput {
  traceId: string;
  agent: string;
  resource: Record<string, unknown>;
  spans: readonly Span[];
}

/** Resource keys a trace field was read from; they are dropped from `attributes` when used. */
export const TRACE_FIELD_KEYS = {
  sessionId: ['session.id', 'gen_ai.conversation.id'],
  userId: ['user.id', 'enduser.id'],
  promptName: ['flywheel.prompt.name'],
  promptVersion: ['flywheel.prompt.version', 'llm.prompt_template.version'],
} as const;

const nonEmpty = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function positiveInt(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * Messages a span recorded only as deprecated GenAI events become its messages. Read here,
 * on the assembled spans, so a span's events stay exactly as they arrived.
 */
function withEventMessages(span: Span): Span {
  if (!span.events || span.events.length === 0) return span;
  if (span.inputMessages !== undefined && span.outputMessages !== undefined) return span;
  const { input, output } = messagesFromGenAiEvents(span.events);
  if (!input && !output) return span;
  const out: Span = { ...span };
  if (out.inputMessages === undefined && input) out.inputMessages = input;
  if (out.outputMessages === undefined && output) out.outputMessages = output;
  return out;
}

/** The first source (resource, then root span, then the others) holding a usable value. */
function lookup<T>(
  sources: readonly Record<string, unknown>[],
  keys: readonly string[],
  parse: (v: unknown) => T | undefined,
): T | undefined {
  for (const source of sources) {
    for (const key of keys) {
      const value = parse(source[key]);
      if (value !== undefined) return value;
    }
  }
  return undefined;
}

function sumUsage(spans: readonly Span[]): TokenUsage | undefined {
  const total: TokenUsage = {};
  for (const s of spans) {
    for (const field of ['inputTokens', 'outputTokens', 'totalTokens'] as const) {
      const n = s.usage?.[field];
      if (n !== undefined) total[field] = (total[field] ?? 0) + n;
    }
  }
  // A total past 2^53 (corrupted attributes) is no integer the trace schema accepts: leave
  // it out rather than lose the trace. What fits the columns is the writer's concern.
  for (const field of ['inputTokens', 'outputTokens', 'totalTokens'] as const)
    if (total[field] !== undefined && !Number.isSafeInteger(total[field])) delete total[field];
  return Object.keys(total).length > 0 ? total : undefined;
}

/** The decision's answer; a call that recorded none leaves the run's own output to stand for it. */
function actionOf(llm: Span | undefined, run: Span): AgentAction {
  const outputs = llm?.outputMessages ?? run.outputMessages;
  const call = outputs?.flatMap((m) => m.tool_calls ?? [])[0];
  if (call) return { action: call.name, arguments: call.arguments };
  const content = outputs
    ? outputs.find((m) => m.role === 'assistant' && m.content !== null)?.content
    : run.output;
  return content === undefined || content === null
    ? { action: 'respond', arguments: {} }
    : { action: 'respond', arguments: {}, content };
}

function inputOf(llm: Span | undefined, run: Span): ChatMessage[] {
  if (llm?.inputMessages && llm.inputMessages.length > 0) return llm.inputMessages;
  if (run.inputMessages && run.inputMessages.length > 0) return run.inputMessages;
  // A chain's input value may be its conversation (LangGraph state: `{"messages": [...]}`).
  const decoded = run.input === undefined ? undefined : messagesFromJson(run.input);
  if (decoded && decoded.messages.length > 0) return decoded.messages;
  return [{ role: 'user', content: run.input ?? '' }];
}

/** Each span's children, for walking down from the agent's run. */
function descendantsOf(top: Span, spans: readonly Span[]): Set<Span> {
  const children = new Map<string, Span[]>();
  for (const s of spans) {
    if (s.parentSpanId === null) continue;
    const list = children.get(s.parentSpanId) ?? [];
    list.push(s);
    children.set(s.parentSpanId, list);
  }
  const out = new Set<Span>();
  const stack = [top];
  while (stack.length > 0) {
    const span = stack.pop()!;
    for (const child of children.get(span.spanId) ?? []) {
      if (out.has(child)) continue;
      out.add(child);
      stack.push(child);
    }
  }
  return out;
}

/**
 * The span of the agent's run: the root when it is an agent; else the last outermost
 * `agent` span under it (a framework run wrapped in the application's own span); else the
 * root. Work after the run (a summarizing or grading call in the same trace) stays outside.
 */
function agentRunOf(root: Span, spans: readonly Span[]): Span {
  if (root.kind === 'agent') return root;
  const agents = spans.filter((s) => s.kind === 'agent');
  if (agents.length === 0) return root;
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const outermost = agents.filter((a) => {
    const seen = new Set<string>();
    for (let p = a.parentSpanId; p !== null && !seen.has(p); p = byId.get(p)?.parentSpanId ?? null) {
      seen.add(p);
      if (byId.get(p)?.kind === 'agent') return false;
    }
    return true;
  });
  return outermost.at(-1) ?? root;
}

/**
 * The model call whose conversation and answer are the trace's decision: the last LLM call
 * inside the agent's run. Without one, the run's own messages or input/output stand for
 * it; only a run that has none of these falls back to the trace's last LLM call.
 */
function decisionOf(run: Span, spans: readonly Span[], llms: readonly Span[]): Span | undefined {
  const inside = descendantsOf(run, spans);
  const own = llms.filter((s) => inside.has(s) || s === run);
  // Spans are sorted by start: the last one is the call the run ended on.
  if (own.length > 0) return own.at(-1);
  const runSpeaks =
    run.inputMessages !== undefined ||
    run.outputMessages !== undefined ||
    run.input !== undefined ||
    run.output !== undefined;
  return runSpeaks ? undefined : llms.at(-1);
}

export function assembleTrace(input: TraceAssemblyInput): TraceRecord {
  if (input.spans.length === 0) throw new Error(`trace ${input.traceId} has no spans to assemble`);
  const spans = nameToolArguments(orderSpans(input.spans).map(withEventMessages));
  const ids = new Set(spans.map((s) => s.spanId));
  const root = spans.find((s) => s.parentSpanId === null || !ids.has(s.parentSpanId)) ?? spans[0]!;
  const others = spans.filter((s) => s !== root);
  const sources = [input.resource, root.attributes, ...others.map((s) => s.attributes)];

  const first = spans.reduce((a, s) => (Date.parse(s.startTime) < Date.parse(a.startTime) ? s : a));
  const last = spans.reduce((a, s) => (Date.parse(s.endTime) > Date.parse(a.endTime) ? s : a));
  const startMs = Date.parse(first.startTime);
  const endMs = Date.parse(last.endTime);
  // A span covering the whole trace (usually the root) has a sub-millisecond latency.
  const covering = spans.find((s) => Date.parse(s.startTime) === startMs && Date.parse(s.endTime) === endMs);
  const llms = spans.filter((s) => s.kind === 'llm');
  const run = agentRunOf(root, spans);
  const decision = decisionOf(run, spans, llms);

  const trace: TraceRecord = {
    id: input.traceId,
    agent: input.agent,
    timestamp: first.startTime,
    endTimestamp: last.endTime,
    latencyMs: covering?.latencyMs ?? endMs - startMs,
    input: { messages: inputOf(decision, run) },
    output: actionOf(decision, run),
    // A tool that answers with an error is part of the conversation the agent handles; the
    // trace failed when the agent, a model call or the root itself did.
    status: spans.some((s) => s.status === 'error' && s.kind !== 'tool') ? 'error' : 'ok',
    spans,
    attributes: {},
  };
  const model = [...llms].reverse().find((s) => s.model !== undefined)?.model;
  if (model !== undefined) trace.model = model;
  const usage = sumUsage(llms);
  if (usage !== undefined) trace.usage = usage;
  const costs = spans.flatMap((s) => (s.costUsd === undefined ? [] : [s.costUsd]));
  const cost = costs.reduce((a, b) => a + b, 0);
  if (costs.length > 0 && Number.isFinite(cost)) trace.costUsd = cost;

  const fields = {
    sessionId: lookup(sources, TRACE_FIELD_KEYS.sessionId, nonEmpty),
    userId: lookup(sources, TRACE_FIELD_KEYS.userId, nonEmpty),
    promptName: lookup(sources, TRACE_FIELD_KEYS.promptName, nonEmpty),
    promptVersion: lookup(sources, TRACE_FIELD_KEYS.promptVersion, positiveInt),
  };
  const attributes: Record<string, unknown> = { ...input.resource };
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    Object.assign(trace, { [field]: value });
    for (const key of TRACE_FIELD_KEYS[field as keyof typeof fields]) {
      const parse = field === 'promptVersion' ? positiveInt : nonEmpty;
      if (parse(attributes[key]) === value) delete attributes[key];
    }
  }
  // Represented by `agent`; an exporter adds them to every resource.
  if (attributes['flywheel.agent'] === input.agent) delete attributes['flywheel.agent'];
  if (attributes['service.name'] === input.agent) delete attributes['service.name'];

  // OpenInference `metadata` holds business attributes (refund_amount, plan); the root's win.
  const seen = new Set<string>();
  for (const s of [root, ...others]) {
    const metadata = parseJsonish(s.attributes.metadata);
    if (!isRecord(metadata)) continue;
    for (const [k, v] of Object.entries(metadata)) {
      if (seen.has(k)) continue;
      seen.add(k);
      attributes[k] = v;
    }
  }
  trace.attributes = attributes;
  // The spans were validated one by one as they arrived (or when first stored), and the
  // input and output above come from them; re-parsing every span and its conversation
  // for the trace would double the schema work of ingest.
  return { ...TraceRecord.parse({ ...trace, spans: [] }), input: trace.input, spans };
}
