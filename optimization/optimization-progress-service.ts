import { z } from 'zod';
import type { Db } from '../db/connection.js';
import { optimizationRunsOfCycle } from './store/optimization-run-repository.js';

/** optimization_runs.trajectory: every incumbent change (optimizers/prompt-search.ts IncumbentPoint). */
const Trajectory = z.array(z.object({ rollouts: z.number(), candidateId: z.string(), score: z.number() }));
/** The part of optimization_runs.config this view reads; runs registered without a plan have none. */
const RunBudget = z.object({ budgetPlan: z.object({ maxRollouts: z.number() }).nullable().optional() });

export interface ProgressPoint {
  /** Task-model calls spent when the optimizer picked this candidate. */
  rollouts: number;
  candidateId: string;
  /** The pick's selection score (a noisier estimate may sit below an earlier pick's). */
  score: number;
  /** The best selection score seen so far: what the chart draws. */
  best: number;
}

export interface OptimizationProgress {
  runId: string;
  optimizer: string;
  status: string;
  baselineScore: number | null;
  bestScore: number | null;
  rollouts: number;
  /** The planned budget in rollouts; null for runs stored without a budget plan. */
  maxRollouts: number | null;
  stopReason: string | null;
  startedAt: string;
  points: ProgressPoint[];
}

/**
 * Optimizer progress of a cycle: per run, the best score over rollouts. The optimize child
 * workflow records its trajectory as the incumbent improves (with the next evaluation batch)
 * and in full when it completes, so a run still searching shows the points it has so far. A malformed stored trajectory yields no points rather than an error:
 * the rest of the run is still worth showing.
 */
export async function optimizationProgress(
  db: Db,
  cycleId: string,
): Promise<{ cycleId: string; runs: OptimizationProgress[] }> {
  const rows = await optimizationRunsOfCycle(db, cycleId);
  return {
    cycleId,
    runs: rows.map((r) => {
      const trajectory = Trajectory.safeParse(r.trajectory);
      const budget = RunBudget.safeParse(r.config);
      let best = -Infinity;
      return {
        runId: r.id,
        optimizer: r.optimizer,
        status: r.status,
        baselineScore: r.baseline_score,
        bestScore: r.best_score,
        rollouts: r.rollouts,
        maxRollouts: budget.success ? (budget.data.budgetPlan?.maxRollouts ?? null) : null,
        stopReason: r.stop_reason,
        startedAt: new Date(r.created_at).toISOString(),
        points: (trajectory.success ? trajectory.data : []).map((p) => {
          best = Math.max(best, p.score);
          return { ...p, best };
        }),
      };
    }),
  };
}
