import { sql } from 'kysely';
import { expandSpans } from '../traces/span-compaction.js';
import type { Db } from '../db/connection.js';
import { TraceRecord } from '../schemas/trace.js';

/**
 * A cycle's sampled traces as evaluators and the diagnosis see them: the redacted copy
 * (what a judge or reviewer may read) plus the trace's non-personal measurements
 * (status, latency, cost, reward) from the traces table.
 */
export async function sampledTraces(db: Db, cycleId: string): Promise<TraceRecord[]> {
  const rows = await db
    .selectFrom('samples')
    .innerJoin('traces', 'traces.id', 'samples.trace_id')
    .select([
      'samples.trace_id as id',
      'samples.redacted',
      'traces.agent_id',
      'traces.started_at',
      'traces.status',
      'traces.latency_ms',
      'traces.cost_usd',
      'traces.reward',
      'traces.outcome',
      'traces.feedback',
      sql<string | null>`traces.prompt_name`.as('prompt_name'),
    ])
    .where('samples.cycle_id', '=', cycleId)
    .orderBy('samples.trace_id')
    .execute();
  return rows.map((r) => {
    const red = r.redacted ?? {};
    const opt = (key: string, value: unknown) =>
      value === null || value === undefined ? {} : { [key]: value };
    return TraceRecord.parse({
      id: r.id,
      agent: r.agent_id,
      timestamp: r.started_at.toISOString(),
      input: red.input,
      output: red.output,
      ...opt('expected', red.expected),
      ...opt('expectedActions', red.expected_actions),
      ...opt('promptName', r.prompt_name),
      ...(r.feedback === null ? {} : { feedback: { score: r.feedback, ...opt('text', red.feedback_text) } }),
      ...opt('outcome', r.outcome),
      ...opt('reward', r.reward),
      status: r.status,
      ...opt('latencyMs', r.latency_ms),
      ...opt('costUsd', r.cost_usd),
      spans: expandSpans(red.spans ?? []),
      attributes: (red.attributes ?? {}) as Record<string, unknown>,
    });
  });
}
