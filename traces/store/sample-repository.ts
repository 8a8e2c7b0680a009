import { sql } from 'kysely';
import { expandSpans } from '../span-compaction.js';
import type { Db } from '../../db/connection.js';
import type { NewSample } from '../../db/database.js';
import { TraceRecord } from '../../schemas/trace.js';

/**
 * A cycle's samples: one row per (cycle, trace), written once. A retried write keeps the
 * rows already stored, and readers see a cycle's sample in trace id order. Readers get only
 * the redacted copy: the raw trace never leaves the traces table.
 */

/** Stores sampled rows; a (cycle, trace) already stored is kept as it is. */
export async function insertSamples(db: Db, rows: NewSample[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('samples')
    .values(rows)
    .onConflict((oc) => oc.columns(['cycle_id', 'trace_id']).doNothing())
    .execute();
}

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
      spans: expandSpans(red.spans ?? [], red.input),
      attributes: (red.attributes ?? {}) as Record<string, unknown>,
    });
  });
}

/** How many traces the cycle sampled. */
export async function sampleCount(db: Db, cycleId: string): Promise<number> {
  const sampled = await db
    .selectFrom('samples')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('cycle_id', '=', cycleId)
    .executeTakeFirstOrThrow();
  return Number(sampled.n);
}

/**
 * The cycle's sampled traces as dataset candidates, in trace id order: the redacted input,
 * output, expectation and attributes, and the cluster of this cycle the trace fell in (if any).
 */
export async function samplesWithClusters(db: Db, cycleId: string) {
  return db
    .selectFrom('samples')
    .leftJoin('cluster_members', (j) =>
      j
        .onRef('cluster_members.trace_id', '=', 'samples.trace_id')
        .on('cluster_members.cluster_id', 'like', `${cycleId}:%`),
    )
    .leftJoin('clusters', 'clusters.id', 'cluster_members.cluster_id')
    .select([
      'samples.trace_id as id',
      sql<unknown>`samples.redacted -> 'input'`.as('input'),
      sql<unknown>`samples.redacted -> 'output'`.as('output'),
      sql<unknown>`samples.redacted -> 'expected'`.as('expected'),
      sql<unknown>`samples.redacted -> 'attributes'`.as('attributes'),
      'samples.reasons',
      'cluster_members.cluster_id',
      'clusters.stable_id',
      'clusters.category',
      'clusters.intervention',
    ])
    .where('samples.cycle_id', '=', cycleId)
    .orderBy('samples.trace_id')
    .execute();
}
