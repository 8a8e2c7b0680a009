import { sql } from 'kysely';
import type { CoachingSet } from '../../schemas/coaching.js';
import type { Db } from '../../db/connection.js';
import type { NewRollout } from '../../db/database.js';
import type { RolloutConfig } from '../../schemas/rollout-config.js';

/**
 * rollouts: one row per rollout workflow. At most one rollout per agent is `running`:
 * starting one supersedes (rolls back) the running one in the same transaction. Every
 * change after the start is guarded on `status = 'running'`, so a finished rollout is never
 * changed again and a retried or concurrent finish flips the status (and moves labels) once.
 * Times that analysis windows compare with `traces.ingested_at` come from the database
 * clock (`now()`), never the worker's.
 */

export function rolloutById(db: Db, id: string) {
  return db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** A rollout as it starts: what the rollout workflow's first activity records. */
export interface StartedRollout {
  rolloutId: string;
  workflowId: string;
  /** null: an operator's rollout outside a cycle. */
  cycleId: string | null;
  agent: string;
  decisionId: string | null;
  baselineVersionId: string;
  candidateVersionId: string;
  config: RolloutConfig;
  createdBy: string;
  /** Candidate coaching released with the candidate version; absent or empty: none. */
  coaching?: CoachingSet | undefined;
}

/**
 * Records a started rollout, superseding the agent's running one; returns when it started.
 * Idempotent: a rollout already recorded is returned as it is.
 */
export function startRolloutRecord(db: Db, args: StartedRollout): Promise<Date> {
  return db.transaction().execute(async (tx) => {
    const existing = await tx
      .selectFrom('rollouts')
      .select('started_at')
      .where('id', '=', args.rolloutId)
      .executeTakeFirst();
    if (existing) return existing.started_at;
    // One live rollout per agent: an older one still running is superseded, not mixed in.
    await tx
      .updateTable('rollouts')
      .set({
        status: 'rolled_back',
        phase: 'rolled_back',
        weight: 0,
        reason: `superseded by ${args.rolloutId}`,
        ended_at: new Date(),
      })
      .where('agent_id', '=', args.agent)
      .where('status', '=', 'running')
      .execute();
    const row = await tx
      .insertInto('rollouts')
      .values({
        id: args.rolloutId,
        workflow_id: args.workflowId,
        cycle_id: args.cycleId,
        agent_id: args.agent,
        release_decision_id: args.decisionId,
        baseline_version_id: args.baselineVersionId,
        candidate_version_id: args.candidateVersionId,
        weight: 0,
        status: 'running',
        config: JSON.stringify(args.config),
        created_by: args.createdBy,
        coaching: args.coaching?.length ? JSON.stringify(args.coaching) : null,
      })
      .returning('started_at')
      .executeTakeFirstOrThrow();
    return row.started_at;
  });
}

/**
 * Inserts a rollout row as given, without the workflow's bookkeeping (no superseding): for
 * benchmarks that serve a rollout with no workflow behind it.
 */
export async function insertRolloutRow(db: Db, row: NewRollout): Promise<void> {
  await db.insertInto('rollouts').values(row).execute();
}

/**
 * Sets a rollout's weight with no status guard, unlike the workflow's writes: a benchmark
 * moves the weight of the rollout it inserted with insertRolloutRow and owns alone.
 */
export async function setRolloutWeight(db: Db, rolloutId: string, weight: number): Promise<void> {
  await db.updateTable('rollouts').set({ weight }).where('id', '=', rolloutId).execute();
}

/** Sets a running rollout's weight; returns the database time it took effect. */
export async function setRunningWeight(
  db: Db,
  args: { rolloutId: string; weight: number; stepIndex: number },
): Promise<Date> {
  const row = await db
    .updateTable('rollouts')
    .set({ weight: args.weight, step_index: args.stepIndex })
    .where('id', '=', args.rolloutId)
    .where('status', '=', 'running')
    .returning(sql<Date>`now()`.as('now'))
    .executeTakeFirstOrThrow();
  return row.now;
}

/** Sets a running rollout's phase; the database time, or undefined when it is not running. */
export async function setRunningPhase(
  db: Db,
  args: { rolloutId: string; phase: 'progressing' | 'paused'; stepIndex: number; reason: string | null },
): Promise<Date | undefined> {
  const row = await db
    .updateTable('rollouts')
    .set({ phase: args.phase, paused_reason: args.reason, step_index: args.stepIndex })
    .where('id', '=', args.rolloutId)
    .where('status', '=', 'running')
    .returning(sql<Date>`now()`.as('now'))
    .executeTakeFirst();
  return row?.now;
}

/** Ends a running rollout; false when it had already ended (nothing changed). */
export async function finishRunningRollout(
  db: Db,
  args: { rolloutId: string; status: 'completed' | 'rolled_back'; reason: string },
): Promise<boolean> {
  const flipped = await db
    .updateTable('rollouts')
    .set({
      status: args.status,
      phase: args.status,
      weight: args.status === 'completed' ? 100 : 0,
      reason: args.reason,
      ended_at: new Date(),
    })
    .where('id', '=', args.rolloutId)
    .where('status', '=', 'running')
    .returning('id')
    .executeTakeFirst();
  return flipped !== undefined;
}

/** The running rollouts whose candidate is a version of one of `names`, for routing. */
export function runningRolloutsOf(db: Db, names: readonly string[]) {
  return db
    .selectFrom('rollouts')
    .innerJoin('prompt_versions', 'prompt_versions.id', 'rollouts.candidate_version_id')
    .select([
      'prompt_versions.name',
      'rollouts.id',
      'rollouts.weight',
      'rollouts.baseline_version_id',
      'rollouts.candidate_version_id',
    ])
    .where('rollouts.status', '=', 'running')
    .where('prompt_versions.name', 'in', [...names])
    .execute();
}

/** The database's clock, the one `traces.ingested_at` and rollout times are written with. */
export async function databaseNow(db: Db): Promise<Date> {
  const { now } = await db.selectNoFrom(sql<Date>`now()`.as('now')).executeTakeFirstOrThrow();
  return now;
}

/** The agent of a rollout named by its ID or its cycle's, or undefined when none is recorded. */
export async function rolloutAgent(db: Db, id: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('rollouts')
    .select('agent_id')
    .where((eb) => eb.or([eb('id', '=', id), eb('cycle_id', '=', id)]))
    .limit(1)
    .executeTakeFirst();
  return row?.agent_id;
}
