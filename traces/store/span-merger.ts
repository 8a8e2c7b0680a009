import { assembleTrace } from '../otlp-mapping.js';
import { expandSpans } from '../span-compaction.js';
import type pg from 'pg';
import type { Span, TraceRecord } from '../../schemas/trace.js';
import { poolOf, type Db } from '../../db/connection.js';
import { columnValues, copyInsert, type TraceWriter } from './trace-writer.js';

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
export async function mergeTraceFragments(
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
  const assembled = new Map(
    [...merged.values()].map((f) => [f.traceId, assembleTrace({ ...f, spans: uniqueSpans(f.spans) })]),
  );
  await writer.prepare([...assembled.values()]);
  const ids = [...merged.keys()].sort();

  const client = await poolOf(db).connect();
  try {
    await client.query('begin');
    await client.query(
      'select pg_advisory_xact_lock(hashtextextended(id, 7)) from unnest($1::text[]) as id',
      [ids],
    );
    const stored = await client.query<StoredRow>(
      'select id, agent_id, started_at, spans, attributes from traces where id = any($1::text[])',
      [ids],
    );
    const existing = new Map(stored.rows.map((r) => [r.id, r]));
    const fresh: TraceRecord[] = [];
    for (const f of merged.values()) {
      const row = existing.get(f.traceId);
      if (!row) {
        fresh.push(assembled.get(f.traceId) as TraceRecord);
        continue;
      }
      if (row.agent_id !== f.agent) {
        result.rejected.push({
          traceId: f.traceId,
          error: `trace ${f.traceId} belongs to agent ${row.agent_id}, not ${f.agent}; send it with that agent's token`,
        });
        continue;
      }
      const before = expandSpans(row.spans);
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
    if (fresh.length > 0) result.newTraces += await copyInsert(client, fresh, writer.strataOf);
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
