import { assembleTrace } from '../otlp-mapping.js';
import { expandSpans } from '../span-compaction.js';
import type pg from 'pg';
import type { Span, SpanEvent, TraceRecord } from '../../schemas/trace.js';
import type { SpanLogEvent } from '../otlp-logs.js';
import { compareIso } from '../otlp-time.js';
import { poolOf, type Db } from '../../db/connection.js';
import { columnValues, copyInsert, jsonbText, type TraceWriter } from './trace-writer.js';

/** Spans of one trace that arrived in one OTLP request. */
export interface TraceFragment {
  traceId: string;
  agent: string;
  resource: Record<string, unknown>;
  spans: Span[];
}

export interface MergeResult {
  newTraces: number;
  updatedTraces: number;
  /** Fragments whose every span was already stored (a re-sent batch). */
  unchanged: number;
  rejected: { traceId: string; error: string }[];
}

interface StoredRow {
  id: string;
  agent_id: string;
  started_at: Date;
  input: unknown;
  spans: unknown;
  attributes: Record<string, unknown>;
}

/**
 * OTLP exporters send a trace's spans in several batches (children usually end, and are
 * exported, before their root). Each batch is merged into the stored trace: new span IDs
 * are added, the trace-level fields are re-derived from all spans, and a span sent twice
 * changes nothing. Transaction-scoped advisory locks on the trace IDs serialize two API
 * replicas that receive parts of the same trace at once, so a trace is never stored twice.
 */
export function mergeTraceFragments(
  db: Db,
  writer: TraceWriter,
  fragments: readonly TraceFragment[],
): Promise<MergeResult> {
  return writer.retryOnDroppedPartition(() => mergeOnce(db, writer, fragments));
}

async function mergeOnce(
  db: Db,
  writer: TraceWriter,
  fragments: readonly TraceFragment[],
): Promise<MergeResult> {
  const result: MergeResult = { newTraces: 0, updatedTraces: 0, unchanged: 0, rejected: [] };
  if (fragments.length === 0) return result;
  // One fragment per trace, assembled once: the assembly serves as the new row, and its
  // start day is the partition any merge can move the trace into.
  const merged = new Map<string, TraceFragment>();
  for (const f of fragments) {
    const prior = merged.get(f.traceId);
    merged.set(f.traceId, prior ? { ...prior, spans: [...prior.spans, ...f.spans] } : f);
  }
  // A trace whose spans cannot make a valid record is rejected alone, never the request.
  const assembled = new Map<string, TraceRecord>();
  for (const f of [...merged.values()]) {
    try {
      assembled.set(f.traceId, assembleTrace({ ...f, spans: uniqueSpans(f.spans) }));
    } catch (error) {
      merged.delete(f.traceId);
      result.rejected.push({
        traceId: f.traceId,
        error: `its spans do not make a valid trace (${error instanceof Error ? error.message.slice(0, 300) : String(error)})`,
      });
    }
  }
  if (merged.size === 0) return result;
  await writer.prepare([...assembled.values()]);
  const ids = [...merged.keys()].sort();

  return inLockedTraces(db, ids, async (client, existing) => {
    const pending = await takePendingEvents(client, merged, existing);
    const fresh: TraceRecord[] = [];
    for (const f of merged.values()) {
      const row = existing.get(f.traceId);
      const waiting = pending.get(f.traceId);
      if (waiting) f.spans = f.spans.map((span) => withEvents(span, waiting.get(span.spanId)));
      if (!row) {
        fresh.push(
          waiting
            ? assembleTrace({ ...f, spans: uniqueSpans(f.spans) })
            : (assembled.get(f.traceId) as TraceRecord),
        );
        continue;
      }
      if (row.agent_id !== f.agent) {
        result.rejected.push({
          traceId: f.traceId,
          error: `trace ${f.traceId} belongs to agent ${row.agent_id}, not ${f.agent}; send it with that agent's token`,
        });
        continue;
      }
      const before = expandSpans(row.spans, row.input);
      const known = new Set(before.map((s) => s.spanId));
      const added = uniqueSpans(f.spans).filter((s) => !known.has(s.spanId));
      if (added.length === 0) {
        result.unchanged += 1;
        continue;
      }
      const trace = assembleTrace({ ...f, spans: [...before, ...added] });
      trace.attributes = { ...row.attributes, ...trace.attributes };
      await updateSpans(client, trace, row.started_at, writer);
      result.updatedTraces += 1;
    }
    if (fresh.length > 0)
      result.newTraces += await copyInsert(client, fresh, writer.strataOf, { storedIdsRead: true });
    return result;
  });
}

/** Key-order independent text of an event, so a re-sent log event is recognized. */
function eventKey(event: SpanEvent): string {
  return JSON.stringify([
    event.name,
    event.time ?? null,
    Object.entries(event.attributes).sort(([a], [b]) => (a < b ? -1 : 1)),
  ]);
}

/** The span with the given events added, each once, in time order (untimed ones last). */
export function withEvents(span: Span, events: readonly SpanEvent[] | undefined): Span {
  if (!events || events.length === 0) return span;
  const known = new Set((span.events ?? []).map(eventKey));
  const added = events.filter((e) => {
    const key = eventKey(e);
    return !known.has(key) && (known.add(key), true);
  });
  if (added.length === 0) return span;
  const all = [...(span.events ?? []), ...added];
  const timed = all.filter((e) => e.time !== undefined).sort((a, b) => compareIso(a.time!, b.time!));
  return { ...span, events: [...timed, ...all.filter((e) => e.time === undefined)] };
}

/**
 * Log events that arrived before their span, for the spans now being stored: taken out of
 * pending_span_events (inside the caller's transaction and trace locks) and grouped by trace
 * and span. Events of another agent, or of spans still missing, keep waiting.
 */
async function takePendingEvents(
  client: pg.PoolClient,
  fragments: ReadonlyMap<string, TraceFragment>,
  existing: ReadonlyMap<string, StoredRow>,
): Promise<Map<string, Map<string, SpanEvent[]>>> {
  const out = new Map<string, Map<string, SpanEvent[]>>();
  const rows = await client.query<{
    id: string;
    agent_id: string;
    trace_id: string;
    span_id: string;
    event: SpanEvent;
  }>(
    'select id, agent_id, trace_id, span_id, event from pending_span_events where trace_id = any($1::text[])',
    [[...fragments.keys()]],
  );
  if (rows.rows.length === 0) return out;
  const taken: string[] = [];
  for (const row of rows.rows) {
    const f = fragments.get(row.trace_id);
    const agent = existing.get(row.trace_id)?.agent_id ?? f?.agent;
    if (!f || row.agent_id !== agent || !f.spans.some((s) => s.spanId === row.span_id)) continue;
    const bySpan = out.get(row.trace_id) ?? new Map<string, SpanEvent[]>();
    bySpan.set(row.span_id, [...(bySpan.get(row.span_id) ?? []), row.event]);
    out.set(row.trace_id, bySpan);
    taken.push(row.id);
  }
  if (taken.length > 0)
    await client.query('delete from pending_span_events where id = any($1::bigint[])', [taken]);
  return out;
}

/** How long a log event waits for its span: exporters send a trace's spans within minutes. */
export const PENDING_EVENT_DAYS = 7;

export interface LogEventMergeResult {
  /** Events added to stored spans (re-sent ones count once). */
  attached: number;
  /** Events whose span is not stored yet; they are added when it arrives. */
  pending: number;
  rejected: { traceId: string; count: number; error: string }[];
}

/**
 * Span events sent as OTLP log records (`POST /v1/logs`): added to their stored span, the
 * trace re-assembled (the events may hold its messages), or kept until the span arrives.
 * Under the same trace locks as span merges, so a log and its span racing each other meet.
 */
export async function mergeSpanLogEvents(
  db: Db,
  writer: TraceWriter,
  agent: string,
  items: readonly SpanLogEvent[],
): Promise<LogEventMergeResult> {
  const result: LogEventMergeResult = { attached: 0, pending: 0, rejected: [] };
  if (items.length === 0) return result;
  const byTrace = new Map<string, SpanLogEvent[]>();
  for (const item of items) byTrace.set(item.traceId, [...(byTrace.get(item.traceId) ?? []), item]);
  const ids = [...byTrace.keys()].sort();
  return inLockedTraces(db, ids, async (client, existing) => {
    const waiting: SpanLogEvent[] = [];
    for (const [traceId, events] of byTrace) {
      const row = existing.get(traceId);
      if (!row) {
        waiting.push(...events);
        continue;
      }
      if (row.agent_id !== agent) {
        result.rejected.push({
          traceId,
          count: events.length,
          error: `trace ${traceId} belongs to agent ${row.agent_id}, not ${agent}; send its logs with that agent's token`,
        });
        continue;
      }
      const spans = expandSpans(row.spans, row.input);
      const present = new Set(spans.map((s) => s.spanId));
      const bySpan = new Map<string, SpanEvent[]>();
      for (const e of events) {
        if (!present.has(e.spanId)) waiting.push(e);
        else bySpan.set(e.spanId, [...(bySpan.get(e.spanId) ?? []), e.event]);
      }
      if (bySpan.size === 0) continue;
      let added = 0;
      const updated = spans.map((span) => {
        const next = withEvents(span, bySpan.get(span.spanId));
        added += (next.events?.length ?? 0) - (span.events?.length ?? 0);
        return next;
      });
      result.attached += added;
      if (added === 0) continue;
      const trace = assembleTrace({ traceId, agent, resource: {}, spans: updated });
      trace.attributes = { ...row.attributes, ...trace.attributes };
      await updateSpans(client, trace, row.started_at, writer);
    }
    if (waiting.length > 0) {
      await client.query(
        `insert into pending_span_events (agent_id, trace_id, span_id, event)
         select $1, t, s, e from unnest($2::text[], $3::text[], $4::jsonb[]) as x(t, s, e)`,
        [
          agent,
          waiting.map((w) => w.traceId),
          waiting.map((w) => w.spanId),
          waiting.map((w) => jsonbText(w.event)),
        ],
      );
      result.pending += waiting.length;
      // A log whose span never comes (sampled out upstream, exporter lost it) waits a week.
      await client.query(
        `delete from pending_span_events where received_at < now() - interval '${PENDING_EVENT_DAYS} days'`,
      );
    }
    return result;
  });
}

/**
 * One transaction holding the advisory locks of the given traces (serializing API replicas
 * that receive parts of the same trace at once), with their stored rows, for `work`.
 */
async function inLockedTraces<T>(
  db: Db,
  ids: readonly string[],
  work: (client: pg.PoolClient, existing: Map<string, StoredRow>) => Promise<T>,
): Promise<T> {
  const client = await poolOf(db).connect();
  try {
    await client.query('begin');
    await client.query(
      'select pg_advisory_xact_lock(hashtextextended(id, 7)) from unnest($1::text[]) as id',
      [ids],
    );
    const stored = await client.query<StoredRow>(
      'select id, agent_id, started_at, input, spans, attributes from traces where id = any($1::text[])',
      [ids],
    );
    const result = await work(client, new Map(stored.rows.map((r) => [r.id, r])));
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

function uniqueSpans(spans: readonly Span[]): Span[] {
  const seen = new Set<string>();
  return spans.filter((s) => !seen.has(s.spanId) && (seen.add(s.spanId), true));
}

/**
 * Rewrites the span-derived columns of a stored trace. Feedback, outcome and reward are
 * left alone: they arrive later through the feedback API and must survive late spans.
 */
async function updateSpans(
  client: pg.PoolClient,
  trace: TraceRecord,
  startedAt: Date,
  writer: TraceWriter,
): Promise<void> {
  const values = columnValues(trace, writer.strataOf(trace));
  const col = (i: number) => values[i] ?? null;
  await client.query(
    `update traces set prompt_name = coalesce($3, prompt_name), prompt_version = coalesce($4::int, prompt_version),
       session_id = coalesce($5, session_id), user_id = coalesce($6, user_id), started_at = $7, ended_at = $8,
       model = $9, status = $10, input = $11::jsonb, output = $12::jsonb, input_tokens = $13::int,
       output_tokens = $14::int, cost_usd = $15::float8, latency_ms = $16::float8, spans = $17::jsonb,
       attributes = $18::jsonb, strata = $19::text[]
     where id = $1 and started_at = $2`,
    [
      trace.id,
      startedAt,
      col(2),
      col(3),
      col(4),
      col(5),
      col(6),
      col(7),
      col(8),
      col(9),
      col(10),
      col(11),
      col(18),
      col(19),
      col(20),
      col(21),
      col(22),
      col(23),
      col(24),
    ],
  );
}
