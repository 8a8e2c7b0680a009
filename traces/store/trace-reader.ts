import { sql, type RawBuilder } from 'kysely';
import { expandSpans } from '../span-compaction.js';
import { TraceRecord } from '../../schemas/trace.js';
import type { Db } from '../../db/connection.js';
import type { Trace, TraceRow } from '../../db/database.js';

/** A stored row back in the normalized model (spans expanded), for export and inspection. */
export function traceFromRow(row: Trace): TraceRecord {
  const opt = <T>(key: string, value: T | null) => (value === null ? {} : { [key]: value });
  return TraceRecord.parse({
    id: row.id,
    agent: row.agent_id,
    ...opt('promptName', row.prompt_name),
    ...opt('promptVersion', row.prompt_version),
    ...opt('sessionId', row.session_id),
    ...opt('userId', row.user_id),
    timestamp: row.started_at.toISOString(),
    ...opt('endTimestamp', row.ended_at?.toISOString() ?? null),
    ...opt('model', row.model),
    input: row.input,
    output: row.output,
    ...opt('expected', row.expected),
    ...opt('expectedActions', row.expected_actions),
    ...(row.feedback === null
      ? {}
      : { feedback: { score: row.feedback, ...opt('text', row.feedback_text) } }),
    ...opt('outcome', row.outcome),
    ...opt('reward', row.reward),
    status: row.status,
    ...(row.input_tokens === null && row.output_tokens === null
      ? {}
      : { usage: { ...opt('inputTokens', row.input_tokens), ...opt('outputTokens', row.output_tokens) } }),
    ...opt('costUsd', row.cost_usd),
    ...opt('latencyMs', row.latency_ms),
    spans: expandSpans(row.spans, row.input),
    attributes: row.attributes,
  });
}

export async function readTrace(db: Db, id: string): Promise<TraceRecord | undefined> {
  const row = await db.selectFrom('traces').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? traceFromRow(row) : undefined;
}

/** One agent's traces started in [windowStart, windowEnd). */
export interface TraceWindow {
  agent: string;
  windowStart: string;
  windowEnd: string;
}

export function windowCondition(w: TraceWindow): RawBuilder<boolean> {
  return sql<boolean>`agent_id = ${w.agent} and started_at >= ${new Date(w.windowStart)} and started_at < ${new Date(w.windowEnd)}`;
}

/**
 * Windows up to this many traces (by the planner's estimate) are counted exactly; larger
 * ones report the estimate, since an exact count of a busy week reads millions of index
 * entries and would cost more than the whole sample.
 */
export const EXACT_COUNT_LIMIT = 200_000;

/** How many traces the window holds: exact when small, the planner's estimate otherwise. */
export async function countWindow(db: Db, w: TraceWindow): Promise<{ count: number; exact: boolean }> {
  const window = windowCondition(w);
  const plan = await sql<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>`
    explain (format json) select 1 from traces where ${window}`.execute(db);
  const estimate = Math.round(plan.rows[0]?.['QUERY PLAN'][0].Plan['Plan Rows'] ?? 0);
  if (estimate > EXACT_COUNT_LIMIT) return { count: estimate, exact: false };
  const rows = await sql<{
    count: number;
  }>`select count(*)::int as count from traces where ${window}`.execute(db);
  return { count: rows.rows[0]?.count ?? 0, exact: true };
}

export type SampledContent = Pick<
  TraceRow,
  'id' | 'input' | 'output' | 'expected' | 'expected_actions' | 'feedback_text' | 'spans' | 'attributes'
>;

/** The parts of the window's traces `ids` that a sample copies (after redaction). */
export async function sampledContent(db: Db, w: TraceWindow, ids: string[]): Promise<SampledContent[]> {
  return db
    .selectFrom('traces')
    .select(['id', 'input', 'output', 'expected', 'expected_actions', 'feedback_text', 'spans', 'attributes'])
    .where('agent_id', '=', w.agent)
    .where('started_at', '>=', new Date(w.windowStart))
    .where('started_at', '<', new Date(w.windowEnd))
    .where('id', 'in', ids)
    .execute();
}

/**
 * One trace's agent and the parts a sample copies (after redaction), for a trace a person
 * adds to a queue by id; undefined when there is no such trace.
 */
export async function sampleContentOf(
  db: Db,
  id: string,
): Promise<(SampledContent & { agent_id: string }) | undefined> {
  return db
    .selectFrom('traces')
    .select([
      'id',
      'agent_id',
      'input',
      'output',
      'expected',
      'expected_actions',
      'feedback_text',
      'spans',
      'attributes',
    ])
    .where('id', '=', id)
    .limit(1)
    .executeTakeFirst();
}

/** The agent a trace belongs to, or undefined when there is no such trace. */
export async function traceAgent(db: Db, id: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('traces')
    .select('agent_id')
    .where('id', '=', id)
    .limit(1)
    .executeTakeFirst();
  return row?.agent_id;
}
