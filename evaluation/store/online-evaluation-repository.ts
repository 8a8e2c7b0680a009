import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';
import type {
  NewOnlineEvaluatedTrace,
  NewOnlineEvaluationRun,
  OnlineEvaluationRunRow,
  Trace,
} from '../../db/database.js';
import type { Evaluation } from '../../schemas/evaluation.js';
import { scoreColumns } from './score-repository.js';

/**
 * Online evaluation's reads and writes: which live traces are due, their rows, the scores
 * (in `scores` with a null cycle, one per trace and evaluator), and one row per run with
 * what it did and spent.
 */

export interface DueTraces {
  agent: string;
  from: Date;
  to: Date;
  /** Traces whose sample key is below this are in the evaluated share. */
  share: number;
  limit: number;
}

/**
 * The agent's traces started in [from, to) inside the evaluated share that online
 * evaluation has not looked at yet, oldest first. The sample key is a hash of the id, so the share is the same for
 * every run and process.
 */
export async function dueTraceIds(db: Db, d: DueTraces): Promise<{ id: string; started_at: Date }[]> {
  if (d.share <= 0 || d.limit <= 0) return [];
  return db
    .selectFrom('traces')
    .select(['id', 'started_at'])
    .where('agent_id', '=', d.agent)
    .where('started_at', '>=', d.from)
    .where('started_at', '<', d.to)
    .where('sample_key', '<', d.share)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('online_evaluated_traces')
            .select(sql`1`.as('one'))
            .whereRef('online_evaluated_traces.trace_id', '=', 'traces.id'),
        ),
      ),
    )
    .orderBy('started_at')
    .orderBy('id')
    .limit(d.limit)
    .execute();
}

/** How many of the agent's traces started in [from, to) (the run's denominator). */
export async function tracesBetween(db: Db, agent: string, from: Date, to: Date): Promise<number> {
  const row = await db
    .selectFrom('traces')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('agent_id', '=', agent)
    .where('started_at', '>=', from)
    .where('started_at', '<', to)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Whole rows of the agent's traces `ids` (raw: the caller redacts before any model sees them). */
export async function liveTraceRows(db: Db, agent: string, ids: readonly string[]): Promise<Trace[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('traces')
    .selectAll()
    .where('agent_id', '=', agent)
    .where('id', 'in', [...ids])
    .orderBy('started_at')
    .orderBy('id')
    .execute();
}

/** A trace's online scores in one write; a score already stored for a (trace, evaluator) is kept. */
export async function insertOnlineScores(
  db: Db,
  args: { agent: string; traceId: string; startedAt: Date },
  evaluations: readonly Evaluation[],
  rubricVersion: number | null = null,
): Promise<void> {
  if (evaluations.length === 0) return;
  await db
    .insertInto('scores')
    .values(
      evaluations.map((e) => ({
        cycle_id: null,
        agent_id: args.agent,
        trace_id: args.traceId,
        trace_started_at: args.startedAt,
        ...scoreColumns(e, rubricVersion),
      })),
    )
    .onConflict((oc) => oc.columns(['trace_id', 'evaluator']).where('cycle_id', 'is', null).doNothing())
    .execute();
}

/** Records that online evaluation looked at a trace, with what it cost; a second record keeps the first. */
export async function markEvaluated(db: Db, row: NewOnlineEvaluatedTrace): Promise<void> {
  await db
    .insertInto('online_evaluated_traces')
    .values(row)
    .onConflict((oc) => oc.column('trace_id').doNothing())
    .execute();
}

/** What online evaluation of the agent's traces has cost since `since`. */
export async function onlineSpentSince(db: Db, agent: string, since: Date): Promise<number> {
  const row = await db
    .selectFrom('online_evaluated_traces')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('cost_usd'), sql<number>`0`).as('spent'))
    .where('agent_id', '=', agent)
    .where('evaluated_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(row.spent);
}

/** The most the judge cost on one of the agent's traces since `since` (0 if none). */
export async function dearestOnlineTraceSince(db: Db, agent: string, since: Date): Promise<number> {
  const row = await db
    .selectFrom('online_evaluated_traces')
    .select((eb) => eb.fn.max('cost_usd').as('dearest'))
    .where('agent_id', '=', agent)
    .where('evaluated_at', '>=', since)
    .where('judged', '=', true)
    .executeTakeFirst();
  return Number(row?.dearest ?? 0);
}

/** A run's totals over the traces it looked at, its earlier attempts included. */
export async function runTotals(db: Db, runKey: string) {
  const row = await db
    .selectFrom('online_evaluated_traces')
    .select((eb) => [
      eb.fn.countAll<string>().as('traces'),
      sql<string>`count(*) filter (where failing)`.as('failing'),
      sql<string>`count(*) filter (where skipped_for_cap)`.as('skipped_for_cap'),
      eb.fn.coalesce(eb.fn.sum<string>('judge_calls'), sql<string>`0`).as('judge_calls'),
      eb.fn.coalesce(eb.fn.sum<string>('tokens'), sql<string>`0`).as('tokens'),
      eb.fn.coalesce(eb.fn.sum<number>('cost_usd'), sql<number>`0`).as('cost_usd'),
    ])
    .where('run_key', '=', runKey)
    .executeTakeFirstOrThrow();
  return {
    traces: Number(row.traces),
    failing: Number(row.failing),
    skippedForCap: Number(row.skipped_for_cap),
    judgeCalls: Number(row.judge_calls),
    tokens: Number(row.tokens),
    costUsd: Number(row.cost_usd),
  };
}

/**
 * The end of the window of the agent's last recorded run other than `runKey` (a retried
 * run's own record must not move its window); undefined before the first run.
 */
export async function lastOnlineWindowEnd(db: Db, agent: string, runKey: string): Promise<Date | undefined> {
  const row = await db
    .selectFrom('online_evaluation_runs')
    .select((eb) => eb.fn.max('window_end').as('end'))
    .where('agent_id', '=', agent)
    .where('run_key', '<>', runKey)
    .executeTakeFirst();
  return row?.end ?? undefined;
}

/** Records a run once: a retried run (same key) keeps the first record. */
export async function recordOnlineRun(db: Db, run: NewOnlineEvaluationRun): Promise<void> {
  await db
    .insertInto('online_evaluation_runs')
    .values(run)
    .onConflict((oc) => oc.column('run_key').doNothing())
    .execute();
}

/** The agent's latest runs, newest first. */
export async function onlineRuns(db: Db, agent: string, limit: number): Promise<OnlineEvaluationRunRow[]> {
  return db
    .selectFrom('online_evaluation_runs')
    .selectAll()
    .where('agent_id', '=', agent)
    .orderBy('window_end', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/**
 * Traces of the agent started in [from, to) that online evaluation failed (any evaluator
 * labelled it `fail`) and no other cycle has sampled, oldest first: the next cycle samples
 * them at 100 % so reviewers can confirm them into the regression suite.
 */
export async function onlineFailuresToSample(
  db: Db,
  args: { agent: string; cycleId: string; from: Date; to: Date; limit: number },
): Promise<string[]> {
  if (args.limit <= 0) return [];
  const rows = await db
    .selectFrom('scores')
    .select('trace_id')
    .distinct()
    .where('cycle_id', 'is', null)
    .where('agent_id', '=', args.agent)
    .where('trace_started_at', '>=', args.from)
    .where('trace_started_at', '<', args.to)
    .where('label', '=', 'fail')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('samples')
            .select(sql`1`.as('one'))
            .whereRef('samples.trace_id', '=', 'scores.trace_id')
            .where('samples.cycle_id', '<>', args.cycleId),
        ),
      ),
    )
    .orderBy('trace_id')
    .limit(args.limit)
    .execute();
  return rows.map((r) => r.trace_id);
}
