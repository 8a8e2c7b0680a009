/**
 * What one simulated week did, judged by ground truth (true success on the held-out set).
 * Thresholds are in points of success rate (0.05 = 5 points), as the issue states them.
 */

/** A candidate this much truly better than production should not have been rolled back. */
export const FALSE_ROLLBACK_MIN_GAIN = 0.05;
/** Production dropping by more than this from one week to the next is a shipped regression. */
export const REGRESSION_TOLERANCE = 0.01;
/** A release must truly gain more than this, or it shipped nothing real. */
export const RELEASE_MIN_GAIN = 0.01;

export interface WeekFacts {
  /** True success of production before this week's cycle. */
  previousProduction: number;
  /** True success of production after it (rollout finished or rolled back). */
  production: number;
  /** The cycle's outcome (released, rolled_back, gate_failed, …). */
  outcome: string;
  /** True success of the candidate the rollout served, when there was a rollout. */
  candidate: number | null;
}

export interface WeekVerdict {
  released: boolean;
  rolledBack: boolean;
  /** Rolled back a candidate that was truly ≥ 5 points better. */
  falseRollback: boolean;
  /** Rolled back a candidate that was not (the rollback was right, or harmless). */
  trueRollback: boolean;
  /** Released a candidate that was not truly better by more than 1 point. */
  falseRelease: boolean;
  /** Production ended the week more than 1 point below where it started. */
  regressionShipped: boolean;
  /** The candidate's true gain over the production it was measured against. */
  candidateDelta: number | null;
}

export function judgeWeek(f: WeekFacts): WeekVerdict {
  const released = f.outcome === 'released';
  const rolledBack = f.outcome === 'rolled_back';
  const candidateDelta = f.candidate === null ? null : f.candidate - f.previousProduction;
  const falseRollback = rolledBack && candidateDelta !== null && candidateDelta >= FALSE_ROLLBACK_MIN_GAIN;
  return {
    released,
    rolledBack,
    falseRollback,
    trueRollback: rolledBack && !falseRollback,
    falseRelease: released && f.production - f.previousProduction <= RELEASE_MIN_GAIN,
    regressionShipped: f.production < f.previousProduction - REGRESSION_TOLERANCE,
    candidateDelta,
  };
}
