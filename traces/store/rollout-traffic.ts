import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';

/**
 * Traces as a rollout reads them: the traffic one prompt version served in a window
 * (aggregated, or a fixed sample of it), and the production traffic replay and shadow
 * answer again. Windows are on `ingested_at` (the database clock); a bound on `started_at`
 * a day wider lets Postgres skip old partitions (traces are partitioned by start time).
 */

export interface VersionWindow {
  agent: string;
  version: number;
  since: Date;
  until: Date;
}

function windowOf(db: Db, w: VersionWindow) {
  return db
    .selectFrom('traces')
    .where('agent_id', '=', w.agent)
    .where('prompt_version', '=', w.version)
    .where('ingested_at', '>=', w.since)
    .where('ingested_at', '<', w.until)
    .where('started_at', '>=', new Date(w.since.getTime() - 24 * 3600 * 1000));
}

/**
 * The window's sample count and rates. A trace fails on negative feedback, a failure or
 * error outcome, or an error status; it escalates on the `escalated` outcome or one of
 * `escalationActions` as its action.
 */
export function versionTrafficMetrics(db: Db, w: VersionWindow, escalationActions: readonly string[]) {
  const failure = sql`(feedback < 0 or outcome in ('failure', 'error') or status = 'error')`;
  const escalation =
    escalationActions.length > 0
      ? sql`(outcome = 'escalated' or output ->> 'action' in (${sql.join(escalationActions)}))`
      : sql`(outcome = 'escalated')`;
  return windowOf(db, w)
    .select([
      sql<number>`count(*)::int`.as('samples'),
      sql<number | null>`avg(case when ${failure} then 0 else 1 end)::float8`.as('success_rate'),
      sql<number | null>`avg(case when feedback < 0 then 1 else 0 end)::float8`.as('negative_feedback_rate'),
      sql<number | null>`avg(case when ${escalation} then 1 else 0 end)::float8`.as('escalation_rate'),
      sql<number | null>`avg(case when status = 'error' or outcome = 'error' then 1 else 0 end)::float8`.as(
        'error_rate',
      ),
      sql<number | null>`percentile_cont(0.95) within group (order by latency_ms)::float8`.as(
        'latency_p95_ms',
      ),
      sql<number | null>`avg(cost_usd)::float8`.as('cost_per_trace_usd'),
    ])
    .executeTakeFirstOrThrow();
}

/**
 * A fixed pseudo-random slice of the window (by the trace's stored sample key), so a
 * retried activity reads the same traces.
 */
export function versionTrafficSample(db: Db, w: VersionWindow, limit: number) {
  return windowOf(db, w).select(['id', 'input', 'output']).orderBy('sample_key').limit(limit).execute();
}

/**
 * Production traffic for the candidate to answer again. Replay: the most recent traces
 * before the rollout started, newest first. Shadow: a sampled share (`sample_key` below
 * `sampleRate`) of the traces ingested since `since`, in sample-key order.
 */
export function tracesToCompare(
  db: Db,
  args: {
    agent: string;
    version: number;
    kind: 'replay' | 'shadow';
    startedAt: Date;
    since: Date;
    sampleRate: number;
    limit: number;
  },
) {
  let query = db
    .selectFrom('traces')
    .select(['id', 'input', 'output', 'expected'])
    .where('agent_id', '=', args.agent)
    .where('prompt_version', '=', args.version);
  query =
    args.kind === 'replay'
      ? query.where('ingested_at', '<', args.startedAt).orderBy('ingested_at', 'desc').orderBy('id')
      : query
          .where('ingested_at', '>=', args.since)
          .where('sample_key', '<', args.sampleRate)
          .orderBy('sample_key');
  return query.limit(args.limit).execute();
}

/**
 * Live shadow: production traces ingested since `since` in the sampled share, that this
 * rollout step has not answered yet, oldest first. Polled while the step runs, so the
 * candidate answers each input shortly after production did.
 */
export function unansweredShadowTraces(
  db: Db,
  args: {
    agent: string;
    version: number;
    rolloutId: string;
    stepIndex: number;
    since: Date;
    sampleRate: number;
    limit: number;
  },
) {
  return db
    .selectFrom('traces')
    .select(['id', 'input', 'output', 'expected'])
    .where('agent_id', '=', args.agent)
    .where('prompt_version', '=', args.version)
    .where('ingested_at', '>=', args.since)
    .where('started_at', '>=', new Date(args.since.getTime() - 24 * 3600 * 1000))
    .where('sample_key', '<', args.sampleRate)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('rollout_shadow_results')
            .select(sql`1`.as('one'))
            .where('rollout_shadow_results.rollout_id', '=', args.rolloutId)
            .where('rollout_shadow_results.step_index', '=', args.stepIndex)
            .whereRef('rollout_shadow_results.trace_id', '=', 'traces.id'),
        ),
      ),
    )
    .orderBy('ingested_at')
    .orderBy('id')
    .limit(args.limit)
    .execute();
}
