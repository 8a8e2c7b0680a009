import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';

/**
 * rollout_shadow_results: the candidate's answer to a production input and whether each
 * side passed, one row per (rollout, step, trace). Insert-only: a retried comparison keeps
 * the rows of the first one. Written in the transaction that records the step's result.
 */
export async function recordShadowResults(
  db: Kysely<Database>,
  rows: readonly {
    rolloutId: string;
    stepIndex: number;
    traceId: string;
    candidateOutput: unknown;
    candidatePass: boolean;
    baselinePass: boolean;
  }[],
): Promise<void> {
  await db
    .insertInto('rollout_shadow_results')
    .values(
      rows.map((r) => ({
        rollout_id: r.rolloutId,
        step_index: r.stepIndex,
        trace_id: r.traceId,
        candidate_output: JSON.stringify(r.candidateOutput),
        candidate_pass: r.candidatePass,
        baseline_pass: r.baselinePass,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** Every comparison recorded for one step of a rollout, oldest first. */
export async function stepShadowResults(db: Kysely<Database>, rolloutId: string, stepIndex: number) {
  return db
    .selectFrom('rollout_shadow_results')
    .select(['trace_id', 'candidate_pass', 'baseline_pass', 'created_at'])
    .where('rollout_id', '=', rolloutId)
    .where('step_index', '=', stepIndex)
    .orderBy('created_at')
    .orderBy('trace_id')
    .execute();
}
