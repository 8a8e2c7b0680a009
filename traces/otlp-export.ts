import type { ChatMessage, InstrumentationScope, OtelSpanKind, Span, TraceRecord } from '../schemas/trace.js';
import {
  FLYWHEEL_PARENT_SPAN_ID,
  FLYWHEEL_SPAN_ID,
  FLYWHEEL_TRACE_ID,
  otlpSpanIdOf,
  otlpTraceIdOf,
} from './otlp-ids.js';
import { recordToKeyValues, type OtlpExportRequest } from './otlp-json.js';
import {
  encodeGenAiMessages,
  encodeOpenInferenceMessages,
  encodeToolArguments,
} from './otlp-message-encode.js';
import { genAiOperationOfKind } from './otlp-span-attributes.js';
import { isoToNanos, msToNanos } from './otlp-time.js';

/**
 * A normalized trace as an OTLP/HTTP JSON request, so traces can be sent on to Phoenix,
 * Langfuse or any OTel backend. Everything is written so that `flattenOtlpRequest` then
 * `assembleTrace` give the trace back: trace-level fields that no span carries ride on the
 * resource, and a span's leftover attributes are written last, so that a key the mapping
 * did not understand the first time wins over a generated one and is left alone again.
 */

export type OtlpConvention = 'openinference' | 'genai';

export interface OtlpExportOptions {
  convention: OtlpConvention;
  serviceName?: string;
}

const statusCodes = { unset: 0, ok: 1, error: 2 } as const;
/** OTLP's numbers; a span stored without an OTel kind goes out as unspecified and comes back without one. */
const otelKindNumbers: Record<OtelSpanKind, number> = {
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
};

function messageAttributes(span: Span, convention: OtlpConvention): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const input = span.inputMessages && span.inputMessages.length > 0 ? span.inputMessages : undefined;
  const output = span.outputMessages && span.outputMessages.length > 0 ? span.outputMessages : undefined;
  if (convention === 'openinference') {
    if (input) Object.assign(out, encodeOpenInferenceMessages('llm.input_messages', input));
    if (output) Object.assign(out, encodeOpenInferenceMessages('llm.output_messages', output));
  } else {
    if (input) out['gen_ai.input.messages'] = encodeGenAiMessages(input);
    if (output) out['gen_ai.output.messages'] = encodeGenAiMessages(output);
  }
  return out;
}

/** Without an explicit kind the mapping would infer one from messages or a tool, so say "unknown". */
function kindAttributes(span: Span, convention: OtlpConvention): Record<string, unknown> {
  const operation = convention === 'genai' ? genAiOperationOfKind[span.kind] : undefined;
  if (operation !== undefined) return { 'gen_ai.operation.name': operation };
  const inferable = span.inputMessages?.length || span.outputMessages?.length || span.tool;
  if (span.kind === 'unknown' && !inferable) return {};
  return { 'openinference.span.kind': span.kind.toUpperCase() };
}

function toolAttributes(span: Span, convention: OtlpConvention): Record<string, unknown> {
  const tool = span.tool;
  if (!tool) return {};
  const oi = convention === 'openinference';
  const out: Record<string, unknown> = { [oi ? 'tool.name' : 'gen_ai.tool.name']: tool.name };
  if (tool.callId !== undefined) out[oi ? 'tool_call.id' : 'gen_ai.tool.call.id'] = tool.callId;
  if (tool.description !== undefined)
    out[oi ? 'tool.description' : 'gen_ai.tool.description'] = tool.description;
  if (tool.arguments !== undefined) {
    out[oi ? 'tool_call.function.arguments' : 'gen_ai.tool.call.arguments'] = encodeToolArguments(
      tool.arguments,
    );
  }
  // OpenInference has no result key: a tool span's output is its result, unless output is taken.
  if (tool.result !== undefined) {
    out[oi && span.output === undefined ? 'output.value' : 'gen_ai.tool.call.result'] = tool.result;
  }
  return out;
}

function usageAttributes(span: Span, convention: OtlpConvention): Record<string, unknown> {
  const u = span.usage;
  const out: Record<string, unknown> = {};
  if (!u) return out;
  if (convention === 'openinference') {
    if (u.inputTokens !== undefined) out['llm.token_count.prompt'] = u.inputTokens;
    if (u.outputTokens !== undefined) out['llm.token_count.completion'] = u.outputTokens;
    if (u.totalTokens !== undefined) out['llm.token_count.total'] = u.totalTokens;
    return out;
  }
  if (u.inputTokens !== undefined) out['gen_ai.usage.input_tokens'] = u.inputTokens;
  if (u.outputTokens !== undefined) out['gen_ai.usage.output_tokens'] = u.outputTokens;
  // GenAI has no total key; the mapping derives input + output, so write only a total that differs.
  const derived =
    u.inputTokens !== undefined && u.outputTokens !== undefined ? u.inputTokens + u.outputTokens : undefined;
  if (u.totalTokens !== undefined && u.totalTokens !== derived) out['llm.usage.total_tokens'] = u.totalTokens;
  return out;
}

function retrievalAttributes(span: Span): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  (span.retrievals ?? []).forEach((doc, i) => {
    const at = `retrieval.documents.${i}.document.`;
    if (doc.id !== undefined) out[`${at}id`] = doc.id;
    out[`${at}content`] = doc.content;
    if (doc.score !== undefined) out[`${at}score`] = doc.score;
    if (doc.metadata !== undefined) out[`${at}metadata`] = JSON.stringify(doc.metadata);
  });
  return out;
}

function spanAttributes(span: Span, convention: OtlpConvention): Record<string, unknown> {
  const oi = convention === 'openinference';
  const out: Record<string, unknown> = {
    ...kindAttributes(span, convention),
    ...messageAttributes(span, convention),
    ...toolAttributes(span, convention),
    ...retrievalAttributes(span),
    ...usageAttributes(span, convention),
  };
  if (span.model !== undefined) out[oi ? 'llm.model_name' : 'gen_ai.response.model'] = span.model;
  if (span.provider !== undefined) out[oi ? 'llm.provider' : 'gen_ai.provider.name'] = span.provider;
  if (span.costUsd !== undefined) out['llm.cost.total'] = span.costUsd;
  if (span.input !== undefined) out[oi ? 'input.value' : 'input'] = span.input;
  if (span.output !== undefined) out[oi ? 'output.value' : 'output'] = span.output;
  return out;
}

/**
 * The end time. An end stored to the millisecond (imports, spans stored before times were
 * exact) is refined by the latency, so sub-millisecond latencies survive.
 */
function endNanos(span: Span, startNs: bigint): bigint {
  const fromLatency = startNs + msToNanos(span.latencyMs);
  const endNs = isoToNanos(span.endTime);
  const wholeMs = endNs % 1_000_000n === 0n;
  if (wholeMs && fromLatency - (fromLatency % 1_000_000n) === endNs) return fromLatency;
  return endNs < startNs ? startNs : endNs;
}

function eventsAndLinks(span: Span): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (span.events && span.events.length > 0) {
    out.events = span.events.map((e) => ({
      ...(e.time === undefined ? {} : { timeUnixNano: isoToNanos(e.time).toString() }),
      name: e.name,
      attributes: recordToKeyValues(e.attributes),
    }));
  }
  if (span.links && span.links.length > 0) {
    out.links = span.links.map((l) => ({
      traceId: l.traceId,
      spanId: l.spanId,
      ...(l.traceState === undefined ? {} : { traceState: l.traceState }),
      attributes: recordToKeyValues(l.attributes),
    }));
  }
  if (span.traceState !== undefined) out.traceState = span.traceState;
  if (span.dropped?.attributes) out.droppedAttributesCount = span.dropped.attributes;
  if (span.dropped?.events) out.droppedEventsCount = span.dropped.events;
  if (span.dropped?.links) out.droppedLinksCount = span.dropped.links;
  return out;
}

function encodeSpan(
  span: Span,
  trace: TraceRecord,
  convention: OtlpConvention,
): OtlpExportRequest['resourceSpans'][number]['scopeSpans'][number]['spans'][number] {
  const traceHex = otlpTraceIdOf(trace.id);
  const spanHex = otlpSpanIdOf(trace.id, span.spanId);
  const ids: Record<string, unknown> = {};
  if (traceHex !== trace.id) ids[FLYWHEEL_TRACE_ID] = trace.id;
  if (spanHex !== span.spanId) ids[FLYWHEEL_SPAN_ID] = span.spanId;
  const parentHex = span.parentSpanId === null ? undefined : otlpSpanIdOf(trace.id, span.parentSpanId);
  if (parentHex !== undefined && parentHex !== span.parentSpanId)
    ids[FLYWHEEL_PARENT_SPAN_ID] = span.parentSpanId;
  const startNs = isoToNanos(span.startTime);
  const status: { code: number; message?: string } = { code: statusCodes[span.status] };
  if (span.statusMessage !== undefined) status.message = span.statusMessage;
  return {
    traceId: traceHex,
    spanId: spanHex,
    ...(parentHex !== undefined ? { parentSpanId: parentHex } : {}),
    name: span.name,
    kind: span.otelKind === undefined ? 0 : otelKindNumbers[span.otelKind],
    startTimeUnixNano: startNs.toString(),
    endTimeUnixNano: endNanos(span, startNs).toString(),
    attributes: recordToKeyValues({ ...spanAttributes(span, convention), ...ids, ...span.attributes }),
    ...eventsAndLinks(span),
    status,
  };
}

/** A trace imported without spans (JSONL) still exports as the one model call it records. */
function decisionSpan(trace: TraceRecord): Span {
  const start = Date.parse(trace.timestamp);
  const latencyMs =
    trace.latencyMs ?? (trace.endTimestamp !== undefined ? Date.parse(trace.endTimestamp) - start : 0);
  const reply: ChatMessage =
    trace.output.action === 'respond'
      ? { role: 'assistant', content: trace.output.content ?? null }
      : {
          role: 'assistant',
          content: trace.output.content ?? null,
          tool_calls: [{ name: trace.output.action, arguments: trace.output.arguments }],
        };
  return {
    spanId: 'decision',
    parentSpanId: null,
    name: trace.agent,
    kind: 'llm',
    startTime: trace.timestamp,
    endTime: trace.endTimestamp ?? new Date(start + Math.max(0, latencyMs)).toISOString(),
    latencyMs: Math.max(0, latencyMs),
    status: trace.status,
    ...(trace.model !== undefined ? { model: trace.model } : {}),
    ...(trace.usage !== undefined ? { usage: trace.usage } : {}),
    ...(trace.costUsd !== undefined ? { costUsd: trace.costUsd } : {}),
    inputMessages: trace.input.messages,
    outputMessages: [reply],
    attributes: {},
  };
}

/**
 * Spans grouped by the instrumentation scope that recorded them, in first-seen order. Spans
 * stored without one (imports, a scope-less exporter) go out without one, so that a re-import
 * does not credit them to an instrumentation that never saw them.
 */
function byScope(spans: readonly Span[]): { scope: InstrumentationScope | undefined; spans: Span[] }[] {
  const groups = new Map<string, { scope: InstrumentationScope | undefined; spans: Span[] }>();
  for (const span of spans) {
    const key = span.scope === undefined ? '' : JSON.stringify(span.scope);
    const group = groups.get(key) ?? { scope: span.scope, spans: [] };
    group.spans.push(span);
    groups.set(key, group);
  }
  return [...groups.values()];
}

function encodeScope(
  scope: InstrumentationScope,
): NonNullable<OtlpExportRequest['resourceSpans'][number]['scopeSpans'][number]['scope']> {
  return {
    name: scope.name,
    ...(scope.version === undefined ? {} : { version: scope.version }),
    ...(scope.attributes === undefined ? {} : { attributes: recordToKeyValues(scope.attributes) }),
  };
}

export function traceToOtlp(trace: TraceRecord, options: OtlpExportOptions): OtlpExportRequest {
  const resource: Record<string, unknown> = { ...trace.attributes };
  const existingService = trace.attributes['service.name'];
  resource['service.name'] =
    options.serviceName ??
    (typeof existingService === 'string' && existingService !== '' ? existingService : trace.agent);
  resource['flywheel.agent'] = trace.agent;
  if (trace.sessionId !== undefined) resource['session.id'] = trace.sessionId;
  if (trace.userId !== undefined) resource['user.id'] = trace.userId;
  if (trace.promptName !== undefined) resource['flywheel.prompt.name'] = trace.promptName;
  if (trace.promptVersion !== undefined) resource['flywheel.prompt.version'] = trace.promptVersion;
  const spans = trace.spans.length > 0 ? trace.spans : [decisionSpan(trace)];
  return {
    resourceSpans: [
      {
        resource: { attributes: recordToKeyValues(resource) },
        scopeSpans: byScope(spans).map(({ scope, spans: group }) => ({
          ...(scope === undefined ? {} : { scope: encodeScope(scope) }),
          spans: group.map((s) => encodeSpan(s, trace, options.convention)),
        })),
      },
    ],
  };
}
