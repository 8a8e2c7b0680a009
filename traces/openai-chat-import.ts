import { z } from 'zod';
import {
  TraceRecord,
  type AgentAction,
  type ChatMessage,
  type ToolCall,
  type SpanInput,
  type TokenUsage,
  type TraceRecordInput,
} from '../schemas/trace.js';
import { stableHash53 } from '../optimizers/stable-hash.js';
import { formatIssues } from '../schemas/format-issues.js';

/**
 * OpenAI chat-completions messages as logs and fine-tuning files hold them. Lenient on
 * purpose: a log line is whatever a logger wrote, so nullable fields may be `null`, content
 * may be an array of parts, and older files use `function_call` / the `function` role.
 */
const ContentPart = z.object({
  type: z.string().min(1),
  text: z.string().optional(),
  refusal: z.string().optional(),
});

export const OpenAiToolCall = z.object({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.object({
    name: z.string().min(1),
    // The API sends a JSON string; some loggers store it already parsed.
    arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
  }),
});
export type OpenAiToolCall = z.infer<typeof OpenAiToolCall>;

export const OpenAiMessage = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(ContentPart)]).nullish(),
  name: z.string().nullish(),
  tool_call_id: z.string().nullish(),
  tool_calls: z.array(OpenAiToolCall).nullish(),
  function_call: z.object({ name: z.string().min(1), arguments: z.string().nullish() }).nullish(),
  refusal: z.string().nullish(),
});
export type OpenAiMessage = z.infer<typeof OpenAiMessage>;

/**
 * Arguments that are not a JSON object are kept as `{ _raw }` rather than dropped: a model
 * that emitted broken JSON made a wrong step, and the judge needs to see what it wrote
 * (the same convention as `llm/agent-step.ts`).
 */
export function parseToolArguments(
  raw: string | Record<string, unknown> | null | undefined,
): Record<string, unknown> {
  if (raw === null || raw === undefined || raw === '') return {};
  if (typeof raw !== 'string') return raw;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // Falls through to the raw text.
  }
  return { _raw: raw };
}

/**
 * Text parts are concatenated back to back, as the model reads them; other parts (images,
 * audio) become a `[type]` marker so the text still shows that something was there.
 */
function contentText(content: OpenAiMessage['content'], refusal: string | null | undefined): string | null {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => part.text ?? part.refusal ?? (part.type === 'text' ? '' : `[${part.type}]`))
      .join('');
  }
  // A refused completion has null content and says why in `refusal`.
  return refusal ?? null;
}

/** `developer` is the newer name of `system`; `function` the pre-tools name of `tool`. */
const roleMap = {
  system: 'system',
  developer: 'system',
  user: 'user',
  assistant: 'assistant',
  tool: 'tool',
  function: 'tool',
} as const;

export function toChatMessage(message: OpenAiMessage): ChatMessage {
  const calls: ToolCall[] = (message.tool_calls ?? []).map((c) => ({
    ...(c.id ? { id: c.id } : {}),
    name: c.function.name,
    arguments: parseToolArguments(c.function.arguments),
  }));
  if (message.function_call) {
    calls.push({
      name: message.function_call.name,
      arguments: parseToolArguments(message.function_call.arguments),
    });
  }
  return {
    role: roleMap[message.role],
    content: contentText(message.content, message.refusal),
    ...(message.name ? { name: message.name } : {}),
    ...(message.tool_call_id ? { tool_call_id: message.tool_call_id } : {}),
    ...(calls.length ? { tool_calls: calls } : {}),
  };
}

/**
 * The step an assistant message takes. `AgentAction` holds one step, so of parallel tool
 * calls only the first becomes the action; the span's output messages keep all of them.
 */
export function toAgentAction(message: ChatMessage): AgentAction {
  const first = message.tool_calls?.[0];
  if (first) return { action: first.name, arguments: first.arguments };
  return { action: 'respond', arguments: {}, content: message.content ?? '' };
}

/** A 16-hex-digit span id (the OTLP width), stable for a trace id and a position in it. */
export function spanIdFor(traceId: string, position: number): string {
  return (
    stableHash53(traceId).toString(16).padStart(14, '0').slice(0, 8) + position.toString(16).padStart(8, '0')
  );
}

const Metadata = z.record(z.string(), z.unknown());
const RecordId = z.union([z.string().min(1), z.number()]);
/**
 * Unix seconds, as OpenAI's `created`; values past 1e11 (year 5138 in seconds) are read as
 * milliseconds, which some loggers write. The cap is the largest time a `Date` can hold.
 */
const UnixTime = z.number().nonnegative().max(8.64e15);
const Timestamp = z.union([z.iso.datetime({ offset: true }), UnixTime]);

/** Shape (a): a chat / fine-tuning record whose last assistant message is the output. */
export const OpenAiChatRecord = z.object({
  id: RecordId.nullish(),
  messages: z.array(OpenAiMessage).min(1),
  tools: z.array(z.unknown()).nullish(),
  model: z.string().nullish(),
  user: z.string().nullish(),
  session_id: z.string().nullish(),
  timestamp: Timestamp.nullish(),
  created: UnixTime.nullish(),
  metadata: Metadata.nullish(),
});
export type OpenAiChatRecord = z.infer<typeof OpenAiChatRecord>;

const Usage = z.object({
  prompt_tokens: z.number().int().nonnegative().nullish(),
  completion_tokens: z.number().int().nonnegative().nullish(),
  total_tokens: z.number().int().nonnegative().nullish(),
});

/** Shape (b): a logged chat-completions request with the response it got. */
export const OpenAiExchangeRecord = z.object({
  id: RecordId.nullish(),
  created: UnixTime.nullish(),
  timestamp: Timestamp.nullish(),
  session_id: z.string().nullish(),
  request: z.object({
    model: z.string().nullish(),
    messages: z.array(OpenAiMessage).min(1),
    tools: z.array(z.unknown()).nullish(),
    user: z.string().nullish(),
    metadata: Metadata.nullish(),
  }),
  response: z.object({
    id: z.string().nullish(),
    created: UnixTime.nullish(),
    model: z.string().nullish(),
    choices: z
      .array(z.object({ message: OpenAiMessage, finish_reason: z.string().nullish() }))
      .min(1, 'no choice to take as the output'),
    usage: Usage.nullish(),
  }),
  metadata: Metadata.nullish(),
});
export type OpenAiExchangeRecord = z.infer<typeof OpenAiExchangeRecord>;

function isoFromUnix(value: number): string {
  return new Date(value > 1e11 ? value : value * 1000).toISOString();
}

function isoFrom(value: string | number | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'number' ? isoFromUnix(value) : new Date(value).toISOString();
}

/** Two seeds give a 106-bit id, so distinct lines practically never collide into one trace. */
function contentId(value: unknown): string {
  const text = JSON.stringify(value);
  return `openai-chat:${stableHash53(text).toString(16)}${stableHash53(text, 1).toString(16)}`;
}

interface Mapped {
  id: string;
  timestamp: string;
  model?: string | undefined;
  userId?: string | undefined;
  sessionId?: string | undefined;
  input: ChatMessage[];
  output: ChatMessage;
  usage?: TokenUsage | undefined;
  tools?: unknown[] | undefined;
  spanAttributes: Record<string, unknown>;
  attributes: Record<string, unknown>;
}

function mapChat(record: OpenAiChatRecord, value: unknown, defaultTime: string): Mapped | string {
  const messages = record.messages.map(toChatMessage);
  const last = messages.findLastIndex((m) => m.role === 'assistant');
  if (last < 0) return 'messages: no assistant message to take as the output';
  if (last === 0) return 'messages: the assistant message has no conversation before it';
  // Messages after the last assistant reply were never answered, so no decision covers them.
  return {
    id: record.id != null ? String(record.id) : contentId(value),
    timestamp: isoFrom(record.created ?? record.timestamp) ?? defaultTime,
    model: record.model ?? undefined,
    userId: record.user ?? undefined,
    sessionId: record.session_id ?? undefined,
    input: messages.slice(0, last),
    output: messages[last]!,
    tools: record.tools ?? undefined,
    spanAttributes: {},
    attributes: record.metadata ?? {},
  };
}

function mapExchange(record: OpenAiExchangeRecord, value: unknown, defaultTime: string): Mapped | string {
  const { request, response } = record;
  const choice = response.choices[0]!;
  if (choice.message.role !== 'assistant') {
    return `response.choices.0.message.role: expected assistant, got ${choice.message.role}`;
  }
  const usage = response.usage;
  const tokens: TokenUsage | undefined = usage
    ? {
        ...(usage.prompt_tokens != null ? { inputTokens: usage.prompt_tokens } : {}),
        ...(usage.completion_tokens != null ? { outputTokens: usage.completion_tokens } : {}),
        ...(usage.total_tokens != null
          ? { totalTokens: usage.total_tokens }
          : usage.prompt_tokens != null && usage.completion_tokens != null
            ? { totalTokens: usage.prompt_tokens + usage.completion_tokens }
            : {}),
      }
    : undefined;
  return {
    // The completion id is unique per call, so it is the natural id when the log has none.
    id: record.id != null ? String(record.id) : (response.id ?? contentId(value)),
    timestamp: isoFrom(record.created ?? record.timestamp ?? response.created) ?? defaultTime,
    model: response.model ?? request.model ?? undefined,
    userId: request.user ?? undefined,
    sessionId: record.session_id ?? undefined,
    input: request.messages.map(toChatMessage),
    output: toChatMessage(choice.message),
    usage: tokens,
    tools: request.tools ?? undefined,
    spanAttributes: {
      ...(response.id ? { 'openai.response.id': response.id } : {}),
      ...(choice.finish_reason ? { 'openai.finish_reason': choice.finish_reason } : {}),
      ...(response.choices.length > 1 ? { 'openai.choice_count': response.choices.length } : {}),
    },
    // Logger metadata wins over the metadata sent to the API on a key clash.
    attributes: { ...(request.metadata ?? {}), ...(record.metadata ?? {}) },
  };
}

function toTrace(m: Mapped, agent: string): TraceRecordInput {
  // A log records when the call happened but not how long it took, so the span is instantaneous.
  const span: SpanInput = {
    spanId: spanIdFor(m.id, 0),
    parentSpanId: null,
    name: m.model ? `chat ${m.model}` : 'chat',
    kind: 'llm',
    startTime: m.timestamp,
    endTime: m.timestamp,
    latencyMs: 0,
    status: 'ok',
    ...(m.model ? { model: m.model } : {}),
    inputMessages: m.input,
    outputMessages: [m.output],
    ...(m.usage ? { usage: m.usage } : {}),
    // The normalized span has no field for the tool definitions offered to the model.
    attributes: { ...m.spanAttributes, ...(m.tools ? { 'llm.tools': m.tools } : {}) },
  };
  return {
    id: m.id,
    agent,
    ...(m.sessionId ? { sessionId: m.sessionId } : {}),
    ...(m.userId ? { userId: m.userId } : {}),
    timestamp: m.timestamp,
    ...(m.model ? { model: m.model } : {}),
    input: { messages: m.input },
    output: toAgentAction(m.output),
    ...(m.usage ? { usage: m.usage } : {}),
    spans: [span],
    attributes: m.attributes,
  };
}

/**
 * Maps OpenAI chat logs (one JSON value per line, already parsed by the caller) to
 * normalized traces: a chat / fine-tuning record, or a logged request with its response.
 * Every bad line is reported by number with what was wrong; the good ones are kept. Ids
 * come from the record, else from a hash of its content, so re-importing is idempotent.
 */
export function openAiChatLogToTraces(
  lines: readonly { line: number; value: unknown }[],
  options: { agent: string; defaultTime: string },
): { traces: TraceRecord[]; errors: { line: number; error: string }[] } {
  const defaultTime = z.iso.datetime({ offset: true }).safeParse(options.defaultTime);
  if (!defaultTime.success)
    throw new RangeError(`defaultTime is not an ISO datetime: ${options.defaultTime}`);
  const fallbackTime = new Date(defaultTime.data).toISOString();

  const traces: TraceRecord[] = [];
  const errors: { line: number; error: string }[] = [];
  for (const { line, value } of lines) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      errors.push({ line, error: 'not a JSON object' });
      continue;
    }
    const isExchange = 'request' in value || 'response' in value;
    let mapped: Mapped | string;
    if (isExchange) {
      const parsed = OpenAiExchangeRecord.safeParse(value);
      if (!parsed.success) {
        errors.push({ line, error: formatIssues(parsed.error, { root: '(record)' }) });
        continue;
      }
      mapped = mapExchange(parsed.data, value, fallbackTime);
    } else {
      const parsed = OpenAiChatRecord.safeParse(value);
      if (!parsed.success) {
        errors.push({ line, error: formatIssues(parsed.error, { root: '(record)' }) });
        continue;
      }
      mapped = mapChat(parsed.data, value, fallbackTime);
    }
    if (typeof mapped === 'string') {
      errors.push({ line, error: mapped });
      continue;
    }
    // The normalized schema has limits of its own (id length, agent name); check them here.
    const trace = TraceRecord.safeParse(toTrace(mapped, options.agent));
    if (trace.success) traces.push(trace.data);
    else errors.push({ line, error: formatIssues(trace.error, { root: '(record)' }) });
  }
  return { traces, errors };
}
