import { z } from 'zod';

/** What the agent did in one step: a tool call or a text reply (`action: "respond"`). */
export const AgentAction = z.object({
  action: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).default({}),
  content: z.string().optional(),
});
export type AgentAction = z.infer<typeof AgentAction>;

/** A tool call requested by an assistant message; arguments are parsed JSON when they parse. */
export const ToolCall = z.object({
  id: z.string().optional(),
  name: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).default({}),
});
export type ToolCall = z.infer<typeof ToolCall>;

export const ChatMessage = z.object({
  /** The nearest of the four roles every model API understands; `sourceRole` keeps the original. */
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().nullable().default(''),
  name: z.string().optional(),
  tool_call_id: z.string().optional(),
  /** Optional so that messages written before tool calls were kept still parse. */
  tool_calls: z.array(ToolCall).optional(),
  /**
   * The role the source wrote when it was not `role` itself (`human`, `tool-call`, `chatbot`,
   * `developer`, a custom name), or `''` when the source message had no role at all. Absent
   * when the source used `role` verbatim. Exporters write it back, so the name round-trips.
   */
  sourceRole: z.string().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const SpanKind = z.enum([
  'agent',
  'chain',
  'llm',
  'tool',
  'retriever',
  'embedding',
  'reranker',
  'guardrail',
  'evaluator',
  'unknown',
]);
export type SpanKind = z.infer<typeof SpanKind>;

export const TokenUsage = z.object({
  inputTokens: z.number().int().nonnegative().optional(),
  outputTokens: z.number().int().nonnegative().optional(),
  totalTokens: z.number().int().nonnegative().optional(),
});
export type TokenUsage = z.infer<typeof TokenUsage>;

export const RetrievedDocument = z.object({
  id: z.string().optional(),
  content: z.string().default(''),
  score: z.number().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

/** A timestamped annotation on a span (an exception with its stack trace, a custom event). */
export const SpanEvent = z.object({
  name: z.string().default(''),
  /** Exact to the nanosecond (up to nine fraction digits); absent when the exporter sent none. */
  time: z.iso.datetime({ offset: true }).optional(),
  attributes: z.record(z.string(), z.unknown()).default({}),
});
export type SpanEvent = z.infer<typeof SpanEvent>;

/** A causal link to a span of this or another trace (a batch job, a handoff between agents). */
export const SpanLink = z.object({
  traceId: z.string().min(1),
  spanId: z.string().min(1),
  traceState: z.string().optional(),
  attributes: z.record(z.string(), z.unknown()).default({}),
});
export type SpanLink = z.infer<typeof SpanLink>;

/** The instrumentation library that recorded a span, e.g. openinference.instrumentation.smolagents. */
export const InstrumentationScope = z.object({
  name: z.string(),
  version: z.string().optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
});
export type InstrumentationScope = z.infer<typeof InstrumentationScope>;

/** OpenTelemetry's own span kind, apart from the GenAI kind in `kind`. */
export const OtelSpanKind = z.enum(['internal', 'server', 'client', 'producer', 'consumer']);
export type OtelSpanKind = z.infer<typeof OtelSpanKind>;

/**
 * One normalized span, whichever convention (OpenInference, OTel GenAI current or
 * deprecated keys) it arrived in. Attributes the mapping understood become fields; every
 * other attribute stays in `attributes` untouched, so nothing a user sent is lost.
 */
export const Span = z.object({
  spanId: z.string().min(1),
  parentSpanId: z.string().nullable().default(null),
  name: z.string().default(''),
  kind: SpanKind.default('unknown'),
  /** OTel's span kind (server, client, ...); absent when unspecified. */
  otelKind: OtelSpanKind.optional(),
  /** Exact to the nanosecond: up to nine fraction digits, so spans that start within one millisecond keep their order. */
  startTime: z.iso.datetime({ offset: true }),
  endTime: z.iso.datetime({ offset: true }),
  latencyMs: z.number().nonnegative(),
  status: z.enum(['ok', 'error', 'unset']).default('unset'),
  statusMessage: z.string().optional(),
  model: z.string().optional(),
  provider: z.string().optional(),
  /** Conversation sent to the model (LLM spans). */
  inputMessages: z.array(ChatMessage).optional(),
  /** Messages the model produced (LLM spans), including their tool calls. */
  outputMessages: z.array(ChatMessage).optional(),
  /** The tool this span executed (tool spans). */
  tool: z
    .object({
      name: z.string().min(1),
      callId: z.string().optional(),
      description: z.string().optional(),
      arguments: z.record(z.string(), z.unknown()).optional(),
      result: z.string().optional(),
    })
    .optional(),
  retrievals: z.array(RetrievedDocument).optional(),
  usage: TokenUsage.optional(),
  costUsd: z.number().nonnegative().optional(),
  /** Raw input/output values (`input.value`, GenAI `input`) when they are not messages. */
  input: z.string().optional(),
  output: z.string().optional(),
  attributes: z.record(z.string(), z.unknown()).default({}),
  events: z.array(SpanEvent).optional(),
  links: z.array(SpanLink).optional(),
  scope: InstrumentationScope.optional(),
  traceState: z.string().optional(),
  /**
   * What the span lost before it was stored: the exporter's own dropped counts, plus
   * events or links too malformed to keep (the span itself is kept).
   */
  dropped: z
    .object({
      attributes: z.number().int().nonnegative().optional(),
      events: z.number().int().nonnegative().optional(),
      links: z.number().int().nonnegative().optional(),
    })
    .optional(),
});
export type Span = z.infer<typeof Span>;
export type SpanInput = z.input<typeof Span>;

/**
 * The normalized trace, one line of the JSONL ingest format. `input`/`output` are the
 * decision the cycle learns from (the conversation so far and the agent's step); `spans`
 * hold the whole tree when the source had one. `expected` is the gold next step when it is
 * known; `expectedActions` the gold action list of a whole task (tau-bench).
 */
/** PostgreSQL text cannot hold U+0000; an id is looked up as sent, so it is refused, not replaced. */
const withoutNul = (field: string) =>
  z
    .string()
    .min(1)
    .refine((v) => !v.includes('\u0000'), {
      error: `${field} contains the NUL character (\\u0000), which cannot be stored; send it without`,
    });
export const TraceRecord = z.object({
  id: withoutNul('id').max(200),
  agent: withoutNul('agent').max(100),
  promptName: z.string().optional(),
  promptVersion: z.number().int().positive().optional(),
  sessionId: z.string().optional(),
  userId: z.string().optional(),
  timestamp: z.iso.datetime({ offset: true }),
  endTimestamp: z.iso.datetime({ offset: true }).optional(),
  model: z.string().optional(),
  input: z.object({ messages: z.array(ChatMessage).min(1) }),
  output: AgentAction,
  expected: AgentAction.optional(),
  expectedActions: z.array(AgentAction).optional(),
  feedback: z
    .object({ score: z.union([z.literal(-1), z.literal(0), z.literal(1)]), text: z.string().optional() })
    .optional(),
  outcome: z.enum(['success', 'failure', 'escalated', 'error']).optional(),
  /** A graded business outcome or benchmark reward in [0, 1] (tau-bench's `reward`). */
  reward: z.number().min(0).max(1).optional(),
  status: z.enum(['ok', 'error']).default('ok'),
  usage: TokenUsage.optional(),
  costUsd: z.number().nonnegative().optional(),
  latencyMs: z.number().nonnegative().optional(),
  spans: z.array(Span).default([]),
  attributes: z.record(z.string(), z.unknown()).default({}),
});
export type TraceRecord = z.infer<typeof TraceRecord>;
export type TraceRecordInput = z.input<typeof TraceRecord>;
