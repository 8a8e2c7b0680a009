import { flattenOtlpRequest } from './otlp-mapping.js';
import { attributeSpan } from './span-agent-attribution.js';
import { attributionRules } from './span-attribution-service.js';
import { openAiChatLogToTraces } from './openai-chat-import.js';
import { tauBenchToTraces } from './tau-bench-import.js';
import { mergeSpanLogEvents, mergeTraceFragments, type TraceFragment } from './store/span-merger.js';
import { flattenOtlpLogsRequest } from './otlp-logs.js';
import type { TraceWriter } from './store/trace-writer.js';
import type { Db } from '../db/connection.js';
import { agentIds } from '../registry/store/agent-repository.js';
import { TraceRecord } from '../schemas/trace.js';
import { parseJsonl, parseJsonLines } from './jsonl-parser.js';

export interface ItemError {
  /** Line number, array index or OTLP path of the bad item. */
  item: string;
  error: string;
}

export interface IngestReport {
  accepted: number;
  duplicates: number;
  rejected: ItemError[];
}

export interface IngestDeps {
  db: Db;
  writer: TraceWriter;
  /**
   * Refuse traces of agents nobody registered (`flywheel agent create`), one by one, instead
   * of registering them on the fly: from a file, a misspelt agent name would otherwise
   * start an empty flywheel of its own. A token's agent is always registered.
   */
  registeredAgentsOnly?: boolean;
}

/** Records whose agent differs from the token's are rejected one by one, never stored. */
function scopeToAgent<T extends { agent: string }>(
  items: readonly { item: string; value: T }[],
  agent: string | null,
): { kept: T[]; errors: ItemError[] } {
  const kept: T[] = [];
  const errors: ItemError[] = [];
  for (const { item, value } of items) {
    if (agent !== null && value.agent !== agent)
      errors.push({
        item,
        error: `agent "${value.agent}" does not match the token's agent "${agent}": send ${value.agent}'s traces with a token of "${value.agent}" (flywheel token create --agent ${value.agent}), or leave "agent" out to file the line under "${agent}"`,
      });
    else kept.push(value);
  }
  return { kept, errors };
}

async function store(
  deps: IngestDeps,
  records: readonly TraceRecord[],
  rejected: ItemError[],
): Promise<IngestReport> {
  let kept = records;
  if (deps.registeredAgentsOnly) {
    const registered = new Set(await agentIds(deps.db));
    kept = records.filter((r) => registered.has(r.agent));
    for (const r of records)
      if (!registered.has(r.agent))
        rejected.push({
          item: `trace ${r.id}`,
          error: `agent "${r.agent}" is not registered: register it with \`flywheel agent create ${r.agent}\` and send the trace again, or correct its "agent" (registered: ${[...registered].join(', ') || 'none'})`,
        });
  }
  const { inserted, duplicates } = await deps.writer.write(kept);
  return { accepted: inserted, duplicates, rejected };
}

/**
 * Normalized-JSONL ingest: stores the valid lines, reports each bad one by line number.
 * With an agent-scoped token, a line without `agent` belongs to the token's agent.
 */
export async function ingestJsonl(
  deps: IngestDeps,
  text: string,
  agent: string | null = null,
): Promise<IngestReport> {
  const { records, errors } = parseJsonl(
    text,
    agent === null ? TraceRecord : TraceRecord.extend({ agent: TraceRecord.shape.agent.default(agent) }),
  );
  const scoped = scopeToAgent(
    records.map((r) => ({ item: `line ${r.line}`, value: r.value })),
    agent,
  );
  return store(deps, scoped.kept, [
    ...errors.map((e) => ({ item: `line ${e.line}`, error: e.error })),
    ...scoped.errors,
  ]);
}

export type ImportFormat = 'jsonl' | 'tau-bench' | 'openai-chat';
export const IMPORT_FORMATS: readonly ImportFormat[] = ['jsonl', 'tau-bench', 'openai-chat'];

/** Importers share the normalized write path, so every format is idempotent by trace id. */
export async function importTraces(
  deps: IngestDeps,
  format: ImportFormat,
  text: string,
  options: { agent: string; source?: string; now: Date; model?: string },
): Promise<IngestReport> {
  if (format === 'jsonl') return ingestJsonl(deps, text, options.agent);
  if (format === 'tau-bench') {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      return {
        accepted: 0,
        duplicates: 0,
        rejected: [
          {
            item: '(file)',
            error: `not valid JSON (${e instanceof Error ? e.message : String(e)}); expected a tau-bench results array`,
          },
        ],
      };
    }
    const { traces, errors } = tauBenchToTraces(json, {
      agent: options.agent,
      source: options.source ?? 'import',
      baseTime: options.now.toISOString(),
      ...(options.model ? { model: options.model } : {}),
    });
    return store(
      deps,
      traces,
      errors.map((e) => ({ item: `item ${e.item}`, error: e.error })),
    );
  }
  const { values, errors: jsonErrors } = parseJsonLines(text);
  const { traces, errors } = openAiChatLogToTraces(values, {
    agent: options.agent,
    defaultTime: options.now.toISOString(),
  });
  return store(deps, traces, [
    ...jsonErrors.map((e) => ({ item: `line ${e.line}`, error: e.error })),
    ...errors.map((e) => ({ item: `line ${e.line}`, error: e.error })),
  ]);
}

export interface OtlpReport {
  acceptedSpans: number;
  rejectedSpans: number;
  newTraces: number;
  updatedTraces: number;
  rejected: ItemError[];
}

/**
 * OTLP/HTTP JSON ingest. Each span is mapped and validated on its own, spans are grouped
 * into per-trace fragments and merged into stored traces, and every rejected span is
 * named by its path in the request.
 */
export async function ingestOtlp(deps: IngestDeps, body: unknown, agent: string): Promise<OtlpReport> {
  const { spans, errors } = flattenOtlpRequest(body);
  const rejected: ItemError[] = errors.map((e) => ({ item: e.path, error: e.error }));
  let rejectedSpans = errors.length;
  const fragments = new Map<string, TraceFragment>();
  let acceptedSpans = 0;
  // A span id twice in one request is an exporter bug; the first copy is kept and the second
  // is reported, so acceptedSpans counts only what was stored.
  const seen = new Set<string>();
  const rules = await attributionRules(deps.db);
  for (const flat of spans) {
    const key = `${flat.traceId}/${flat.span.spanId}`;
    if (seen.has(key)) {
      rejected.push({
        item: `trace ${flat.traceId} span ${flat.span.spanId}`,
        error: 'this span id appears more than once in the request; the first copy was kept',
      });
      rejectedSpans += 1;
      continue;
    }
    seen.add(key);
    // The token's agent, unless the span names another one or another agent's rule claims it.
    const claimed = attributeSpan(flat.resource, flat.span.attributes, agent, rules);
    if (!claimed.ok) {
      rejected.push({
        item: `trace ${flat.traceId} span ${flat.span.spanId}${flat.span.name ? ` "${flat.span.name}"` : ''}`,
        error: claimed.error,
      });
      rejectedSpans += 1;
      continue;
    }
    const fragment = fragments.get(flat.traceId) ?? {
      traceId: flat.traceId,
      agent,
      resource: flat.resource,
      spans: [],
    };
    fragment.spans.push(flat.span);
    fragments.set(flat.traceId, fragment);
    acceptedSpans += 1;
  }
  const merged = await mergeTraceFragments(deps.db, deps.writer, [...fragments.values()]);
  for (const r of merged.rejected) {
    const count = fragments.get(r.traceId)?.spans.length ?? 0;
    acceptedSpans -= count;
    rejectedSpans += count;
    rejected.push({ item: `trace ${r.traceId}`, error: r.error });
  }
  return {
    acceptedSpans,
    rejectedSpans,
    newTraces: merged.newTraces,
    updatedTraces: merged.updatedTraces,
    rejected,
  };
}

export interface OtlpLogsReport {
  /** Log records stored as events of their span, now or when the span arrives. */
  acceptedLogRecords: number;
  rejectedLogRecords: number;
  /** Of the accepted: added to a stored span now / waiting for their span. */
  attached: number;
  pending: number;
  rejected: ItemError[];
}

/**
 * OTLP/HTTP JSON log ingest: each log record that names a span becomes an event of that span
 * (GenAI instrumentations send a model call's messages this way), attributed like spans.
 */
export async function ingestOtlpLogs(
  deps: IngestDeps,
  body: unknown,
  agent: string,
): Promise<OtlpLogsReport> {
  const { events, errors } = flattenOtlpLogsRequest(body);
  const rejected: ItemError[] = errors.map((e) => ({ item: e.path, error: e.error }));
  const rules = await attributionRules(deps.db);
  const kept = events.filter((e) => {
    const claimed = attributeSpan(e.resource, e.event.attributes, agent, rules);
    if (!claimed.ok)
      rejected.push({
        item: `trace ${e.traceId} span ${e.spanId} log "${e.event.name}"`,
        error: claimed.error,
      });
    return claimed.ok;
  });
  const merged = await mergeSpanLogEvents(deps.db, deps.writer, agent, kept);
  let refused = 0;
  for (const r of merged.rejected) {
    refused += r.count;
    rejected.push({ item: `trace ${r.traceId}`, error: r.error });
  }
  return {
    acceptedLogRecords: kept.length - refused,
    rejectedLogRecords: events.length - kept.length + errors.length + refused,
    attached: merged.attached,
    pending: merged.pending,
    rejected,
  };
}
