import type { Db } from '../../db/connection.js';
import type { IncumbentPoint, SearchOutcome } from '../../optimizers/prompt-search.js';
import type { BudgetPlan } from '../../optimizers/budget-plan.js';
import type { OptimizerChoice } from '../../schemas/optimizer-config.js';

/**
 * optimization_runs: one row per optimize child workflow. The run is registered once (a
 * retried start finds its row and changes nothing) and completed once with the outcome.
 * The budget plan is kept in `config` next to the optimizer, and its warnings are the
 * row's warnings from the start, so they are on record before the first rollout. While the
 * run searches, its trajectory and rollouts are recorded as they grow (recordOptimizationProgress),
 * so the progress chart draws before the run ends; completion writes the final ones.
 */

export async function registerOptimizationRun(
  db: Db,
  run: { id: string; cycleId: string; optimizer: OptimizerChoice; budgetPlan?: BudgetPlan },
): Promise<void> {
  await db
    .insertInto('optimization_runs')
    .values({
      id: run.id,
      cycle_id: run.cycleId,
      optimizer: run.optimizer.name,
      config: JSON.stringify({ ...run.optimizer, budgetPlan: run.budgetPlan ?? null }),
      status: 'running',
      warnings: JSON.stringify(run.budgetPlan?.warnings ?? []),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export async function completeOptimizationRun(
  db: Db,
  runId: string,
  result: { bestCandidateId: string; outcome: SearchOutcome; tokens: number },
): Promise<void> {
  const { outcome } = result;
  await db
    .updateTable('optimization_runs')
    .set({
      status: 'completed',
      best_candidate_id: result.bestCandidateId,
      baseline_score: outcome.baselineScore,
      best_score: outcome.bestScore,
      rollouts: outcome.rollouts,
      teacher_calls: outcome.teacherCalls,
      tokens: result.tokens,
      warnings: JSON.stringify(outcome.warnings),
      trajectory: JSON.stringify(outcome.trajectory),
      stop_reason: outcome.stopReason,
    })
    .where('id', '=', runId)
    .execute();
}

/**
 * The trajectory so far of a run still searching. It only ever grows and is sent whole, so a
 * retried or repeated write is harmless; a completed run keeps its final values.
 */
export async function recordOptimizationProgress(
  db: Db,
  runId: string,
  progress: { rollouts: number; trajectory: readonly IncumbentPoint[] },
): Promise<void> {
  await db
    .updateTable('optimization_runs')
    .set({ rollouts: progress.rollouts, trajectory: JSON.stringify(progress.trajectory) })
    .where('id', '=', runId)
    .where('status', '=', 'running')
    .execute();
}

/** A cycle's optimization runs, oldest first, with what the progress view reads. */
export function optimizationRunsOfCycle(db: Db, cycleId: string) {
  return db
    .selectFrom('optimization_runs')
    .select([
      'id',
      'optimizer',
      'status',
      'config',
      'baseline_score',
      'best_score',
      'rollouts',
      'stop_reason',
      'trajectory',
      'created_at',
    ])
    .where('cycle_id', '=', cycleId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}
