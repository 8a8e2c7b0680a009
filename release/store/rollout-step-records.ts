import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';

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
export async function recordedStepResult<T>(db: Kysely<Database>, key: StepKey): Promise<T | undefined> {
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
  db: Kysely<Database>,
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
