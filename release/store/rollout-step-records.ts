import type { Db } from '../../db/connection.js';
import type { RolloutStepRow } from '../../db/database.js';

/** One measurement of a rollout step: analysis rounds, replay and shadow attempts. */
export interface StepKey {
  rolloutId: string;
  stepIndex: number;
  round: number;
}

/**
 * The result stored for this step and round, if any: a retried activity returns what it
 * measured before instead of measuring (and paying the judge) again. The stored JSON is
 * what `recordStepResult` wrote for the same key.
 */
export async function recordedStepResult<T>(db: Db, key: StepKey): Promise<T | undefined> {
  const row = await db
    .selectFrom('rollout_steps')
    .select('metrics')
    .where('rollout_id', '=', key.rolloutId)
    .where('step_index', '=', key.stepIndex)
    .where('round', '=', key.round)
    .executeTakeFirst();
  return row?.metrics as T | undefined;
}

export async function recordStepResult(
  db: Db,
  key: StepKey,
  row: { weight: number; kind: 'analysis' | 'replay' | 'shadow'; verdict: string; result: unknown },
): Promise<void> {
  await db
    .insertInto('rollout_steps')
    .values({
      rollout_id: key.rolloutId,
      step_index: key.stepIndex,
      round: key.round,
      weight: row.weight,
      kind: row.kind,
      verdict: row.verdict,
      metrics: JSON.stringify(row.result),
    })
    .onConflict((oc) => oc.columns(['rollout_id', 'step_index', 'round']).doNothing())
    .execute();
}

/** The analyses of the cycle's rollout, by step then round. */
export async function rolloutStepsOfCycle(
  db: Db,
  cycleId: string,
): Promise<Pick<RolloutStepRow, 'step_index' | 'round' | 'weight' | 'verdict' | 'metrics'>[]> {
  return db
    .selectFrom('rollout_steps')
    .innerJoin('rollouts', 'rollouts.id', 'rollout_steps.rollout_id')
    .select([
      'rollout_steps.step_index',
      'rollout_steps.round',
      'rollout_steps.weight',
      'rollout_steps.verdict',
      'rollout_steps.metrics',
    ])
    .where('rollouts.cycle_id', '=', cycleId)
    .orderBy('rollout_steps.step_index')
    .orderBy('rollout_steps.round')
    .execute();
}

/** Every recorded step result of one rollout (cycle or manual), by step then round. */
export async function rolloutStepRecords(
  db: Db,
  rolloutId: string,
): Promise<
  Pick<RolloutStepRow, 'step_index' | 'round' | 'weight' | 'kind' | 'verdict' | 'metrics' | 'created_at'>[]
> {
  return db
    .selectFrom('rollout_steps')
    .select(['step_index', 'round', 'weight', 'kind', 'verdict', 'metrics', 'created_at'])
    .where('rollout_id', '=', rolloutId)
    .orderBy('step_index')
    .orderBy('round')
    .execute();
}
