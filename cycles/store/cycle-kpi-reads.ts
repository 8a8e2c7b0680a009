import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';
import type { CycleKpiRow } from '../cycle-kpis.js';

/**
 * The KPI read model: one row per cycle of an agent, newest first, assembled from what each
 * stage stored (samples, gate reports, rollouts and their analysis steps, annotation queues,
 * scores, judge calibrations and optimization runs). Read-only, and like lineage it reads across domains' tables:
 * a KPI is about the whole loop. One query per table family for the whole page of cycles, not
 * per cycle.
 */
export async function cycleKpiRows(db: Db, agent: string, limit: number): Promise<CycleKpiRow[]> {
  const cycles = await db
    .selectFrom('cycles')
    .select(['id', 'stage', 'outcome', 'started_at'])
    .where('agent_id', '=', agent)
    .orderBy('started_at', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
  if (cycles.length === 0) return [];
  const ids = cycles.map((c) => c.id);

  const [oldest, gates, rollouts, queues, judgeCosts, runs, calibrations] = await Promise.all([
    db
      .selectFrom('samples')
      .innerJoin('traces', 'traces.id', 'samples.trace_id')
      .select(['samples.cycle_id', sql<Date>`min(traces.started_at)`.as('oldest')])
      .where('samples.cycle_id', 'in', ids)
      .groupBy('samples.cycle_id')
      .execute(),
    // The newest gate report of each cycle (a retried gate may store a second one).
    db
      .selectFrom('gate_reports')
      .select(['cycle_id', 'report', 'created_at'])
      .where('cycle_id', 'in', ids)
      .orderBy('created_at', 'desc')
      .execute(),
    db
      .selectFrom('rollouts')
      .select(['id', 'cycle_id', 'status', 'ended_at', 'started_at'])
      .where('cycle_id', 'in', ids)
      .orderBy('started_at', 'desc')
      .execute(),
    db
      .selectFrom('annotation_queues')
      .leftJoin('annotation_items', 'annotation_items.queue_id', 'annotation_queues.id')
      .select([
        'annotation_queues.cycle_id',
        'annotation_queues.created_at',
        'annotation_queues.notified_at',
        sql<number>`count(annotation_items.id)::int`.as('items'),
        sql<number>`count(annotation_items.id) filter (where annotation_items.status = 'complete')::int`.as(
          'complete',
        ),
      ])
      .where('annotation_queues.cycle_id', 'in', ids)
      .groupBy(['annotation_queues.id', 'annotation_queues.cycle_id'])
      .execute(),
    db
      .selectFrom('scores')
      .select(['cycle_id', sql<number>`coalesce(sum(cost_usd), 0)::float8`.as('cost')])
      .where('cycle_id', 'in', ids)
      .where('source', '=', 'judge')
      .groupBy('cycle_id')
      .execute(),
    db
      .selectFrom('optimization_runs')
      .select([
        'cycle_id',
        sql<number>`coalesce(sum(tokens), 0)::float8`.as('tokens'),
        sql<number>`coalesce(sum(teacher_calls), 0)::int`.as('teacher_calls'),
        sql<number>`coalesce(sum(rollouts), 0)::int`.as('rollouts'),
      ])
      .where('cycle_id', 'in', ids)
      .groupBy('cycle_id')
      .execute(),
    db
      .selectFrom('judge_calibrations')
      .select(['cycle_id', 'labels', 'kappa', 'accuracy'])
      .where('cycle_id', 'in', ids)
      .orderBy('cycle_id')
      .orderBy('dimension')
      .execute(),
  ]);

  const latestRollout = new Map<string, (typeof rollouts)[number]>();
  for (const r of rollouts)
    if (r.cycle_id && !latestRollout.has(r.cycle_id)) latestRollout.set(r.cycle_id, r);
  const rolloutIds = [...latestRollout.values()].map((r) => r.id);
  const analyses = rolloutIds.length
    ? await db
        .selectFrom('rollout_steps')
        .select(['rollout_id', 'metrics'])
        .where('rollout_id', 'in', rolloutIds)
        .where('kind', '=', 'analysis')
        .orderBy('step_index', 'desc')
        .orderBy('round', 'desc')
        .execute()
    : [];
  const lastAnalysis = new Map<string, unknown>();
  for (const a of analyses) if (!lastAnalysis.has(a.rollout_id)) lastAnalysis.set(a.rollout_id, a.metrics);
  // A rollout without a success-rate analysis (a plan of setWeight steps only): what online
  // evaluation scored of the traffic each version served while it ran.
  const unmeasured = rolloutIds.filter((id) => successRate(lastAnalysis.get(id)) === null);
  const passRates = unmeasured.length > 0 ? await onlinePassRates(db, unmeasured) : new Map<string, Rates>();

  const gateOf = new Map<string, unknown>();
  for (const g of gates) if (!gateOf.has(g.cycle_id)) gateOf.set(g.cycle_id, g.report);
  const oldestOf = new Map(oldest.map((o) => [o.cycle_id, new Date(o.oldest)]));
  const queueOf = new Map(queues.map((q) => [q.cycle_id, q]));
  const judgeCostOf = new Map(judgeCosts.map((j) => [j.cycle_id, Number(j.cost)]));
  const runsOf = new Map(runs.map((r) => [r.cycle_id, r]));
  const calibrationsOf = new Map<string, CycleKpiRow['calibrations']>();
  for (const c of calibrations)
    calibrationsOf.set(c.cycle_id, [
      ...(calibrationsOf.get(c.cycle_id) ?? []),
      { labels: c.labels, kappa: c.kappa, accuracy: c.accuracy },
    ]);

  return cycles.map((c) => {
    const rollout = latestRollout.get(c.id);
    const queue = queueOf.get(c.id);
    const run = runsOf.get(c.id);
    return {
      cycleId: c.id,
      stage: c.stage,
      outcome: c.outcome,
      startedAt: new Date(c.started_at),
      oldestSampledTraceAt: oldestOf.get(c.id) ?? null,
      gate: gateSummary(gateOf.get(c.id)),
      rollout: rollout
        ? {
            status: rollout.status,
            endedAt: rollout.ended_at ? new Date(rollout.ended_at) : null,
            lastSuccessRate: successRate(lastAnalysis.get(rollout.id)),
            onlinePassRate: passRates.get(rollout.id) ?? null,
          }
        : null,
      annotation: queue
        ? {
            items: queue.items,
            complete: queue.complete,
            openedAt: new Date(queue.created_at),
            quorumAt: queue.notified_at ? new Date(queue.notified_at) : null,
          }
        : null,
      cost: {
        judgeCostUsd: judgeCostOf.get(c.id) ?? 0,
        optimizerTokens: Number(run?.tokens ?? 0),
        teacherCalls: run?.teacher_calls ?? 0,
        rollouts: run?.rollouts ?? 0,
      },
      calibrations: calibrationsOf.get(c.id) ?? [],
    };
  });
}

type Rates = { candidate: number | null; baseline: number | null };

/**
 * Per rollout, online evaluation's pass rate of the traces its candidate and its baseline
 * served while it ran (from its start to its end, or to now): a trace passes when none of its
 * online scores failed. A trace names its version by prompt name (the agent's own prompt when
 * it names none) and number. A version that served no scored trace has no rate.
 */
async function onlinePassRates(db: Db, rolloutIds: readonly string[]): Promise<Map<string, Rates>> {
  const { rows } = await sql<{ rollout_id: string; arm: string; scored: number; passed: number }>`
    select r.id as rollout_id, arm.arm, count(*)::int as scored,
           (count(*) filter (where not v.failed))::int as passed
    from rollouts r
    cross join lateral (values ('candidate', r.candidate_version_id), ('baseline', r.baseline_version_id))
      as arm (arm, version_id)
    join prompt_versions pv on pv.id = arm.version_id
    join lateral (
      select s.trace_id, coalesce(bool_or(s.label = 'fail'), false) as failed
      from scores s
      join traces t on t.id = s.trace_id and t.started_at = s.trace_started_at
      where s.cycle_id is null
        and s.agent_id = r.agent_id
        and s.trace_started_at >= r.started_at
        and (r.ended_at is null or s.trace_started_at < r.ended_at)
        and coalesce(t.prompt_name, t.agent_id) = pv.name
        and t.prompt_version = pv.version
      group by s.trace_id
    ) v on true
    where r.id in (${sql.join([...rolloutIds])})
    group by r.id, arm.arm
  `.execute(db);
  const out = new Map<string, Rates>();
  for (const row of rows) {
    const rates = out.get(row.rollout_id) ?? { candidate: null, baseline: null };
    const rate = Math.round((row.passed / row.scored) * 10_000) / 10_000;
    if (row.arm === 'candidate') rates.candidate = rate;
    else rates.baseline = rate;
    out.set(row.rollout_id, rates);
  }
  return out;
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** The composite Δ of a stored gate report (reports before version 2 have none). */
function gateSummary(report: unknown): CycleKpiRow['gate'] {
  if (!report || typeof report !== 'object') return null;
  const r = report as {
    verdict?: unknown;
    composite?: { delta?: unknown; ci?: unknown; candidate?: unknown; baseline?: unknown };
  };
  const ci = r.composite?.ci;
  return {
    verdict: typeof r.verdict === 'string' ? r.verdict : 'unknown',
    delta: num(r.composite?.delta),
    ci:
      Array.isArray(ci) && ci.length === 2 && num(ci[0]) !== null && num(ci[1]) !== null
        ? [ci[0] as number, ci[1] as number]
        : null,
    candidate: num(r.composite?.candidate),
    baseline: num(r.composite?.baseline),
  };
}

/** The success-rate measurement of a stored analysis step, if it measured one. */
function successRate(metrics: unknown): { candidate: number | null; baseline: number | null } | null {
  const list = (metrics as { metrics?: unknown } | null | undefined)?.metrics;
  if (!Array.isArray(list)) return null;
  const m = (list as { name?: unknown; candidate?: unknown; baseline?: unknown }[]).find(
    (x) => x.name === 'success_rate',
  );
  return m ? { candidate: num(m.candidate), baseline: num(m.baseline) } : null;
}
