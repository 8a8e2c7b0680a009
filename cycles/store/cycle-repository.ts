import type { Db } from '../../db/connection.js';

/**
 * The `cycles` table: one row per improvement cycle, written by the cycle workflow's
 * activities (start, then each stage change) and read by whoever needs a cycle's agent or
 * stage. Rows are never deleted; a start is an idempotent upsert so retried and resumed
 * workflows find their row. Reads take no locks: callers that must see the stage under a
 * lock hold their own row lock first (see annotation/store/annotation-writes.ts).
 */

export interface CycleStart {
  cycleId: string;
  agent: string;
  runId: string;
  windowStart: string;
  windowEnd: string;
  input: unknown;
}

/** Inserts the cycle's row at stage `starting`; a row already there is kept as it is. */
export async function insertCycle(db: Db, start: CycleStart): Promise<void> {
  await db
    .insertInto('cycles')
    .values({
      id: start.cycleId,
      agent_id: start.agent,
      run_id: start.runId,
      stage: 'starting',
      outcome: 'in_progress',
      window_start: start.windowStart,
      window_end: start.windowEnd,
      input: JSON.stringify(start.input),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** Moves the cycle to a stage; returns when that happened, or undefined for an unknown cycle. */
export async function setCycleStage(
  db: Db,
  cycleId: string,
  stage: string,
  outcome: string,
): Promise<Date | undefined> {
  const row = await db
    .updateTable('cycles')
    .set({ stage, outcome, updated_at: new Date() })
    .where('id', '=', cycleId)
    .returning('updated_at')
    .executeTakeFirst();
  return row?.updated_at;
}

/** The agent a cycle improves; throws when there is no such cycle. */
export async function cycleAgent(db: Db, cycleId: string): Promise<string> {
  const row = await db
    .selectFrom('cycles')
    .select('agent_id')
    .where('id', '=', cycleId)
    .executeTakeFirstOrThrow();
  return row.agent_id;
}

/** The cycle's current stage; throws when there is no such cycle. */
export async function cycleStage(db: Db, cycleId: string): Promise<string> {
  const row = await db
    .selectFrom('cycles')
    .select('stage')
    .where('id', '=', cycleId)
    .executeTakeFirstOrThrow();
  return row.stage;
}

/** The cycle's current stage, or undefined when there is no such cycle. */
export async function findCycleStage(db: Db, cycleId: string): Promise<string | undefined> {
  const row = await db.selectFrom('cycles').select('stage').where('id', '=', cycleId).executeTakeFirst();
  return row?.stage;
}

export interface CycleSummary {
  cycleId: string;
  agent: string;
  stage: string;
  outcome: string;
  startedAt: Date;
  updatedAt: Date;
}

/** Each agent's most recently started cycle (agents without cycles are absent). */
export async function latestCycles(db: Db): Promise<Map<string, CycleSummary>> {
  const rows = await db
    .selectFrom('cycles')
    .distinctOn('agent_id')
    .select(['id', 'agent_id', 'stage', 'outcome', 'started_at', 'updated_at'])
    .orderBy('agent_id')
    .orderBy('started_at', 'desc')
    .execute();
  return new Map(
    rows.map((r) => [
      r.agent_id,
      {
        cycleId: r.id,
        agent: r.agent_id,
        stage: r.stage,
        outcome: r.outcome,
        startedAt: r.started_at,
        updatedAt: r.updated_at,
      },
    ]),
  );
}

/** The agent a cycle improves, or undefined when there is no such cycle. */
export async function findCycleAgent(db: Db, cycleId: string): Promise<string | undefined> {
  const row = await db.selectFrom('cycles').select('agent_id').where('id', '=', cycleId).executeTakeFirst();
  return row?.agent_id;
}
