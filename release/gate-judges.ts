import type { JudgeRubric } from '../evaluation/judge-rubrics.js';

/*
 * What the gate needs to know about its judges, the same for a cycle's gate and for
 * `flywheel eval`: when one judge run counts as a pass, and which judged dimensions may not
 * gate because their agreement with reviewers is missing or below the floor.
 */

/** The score at which one judge run counts as a pass: a binary pass, or the Likert pass level. */
export const passScore = (rubric: JudgeRubric): number =>
  rubric.scale === 'likert5' ? ((rubric.passLevel ?? 4) - 1) / 4 : 1;

/** Per gated dimension, the score at which one of its runs passes (pass^k reads it). */
export const passScores = (rubrics: readonly JudgeRubric[]): Record<string, number> =>
  Object.fromEntries(rubrics.map((r) => [r.dimension, passScore(r)]));

/** A stored measurement of one judge dimension's agreement with reviewers. */
export interface JudgeCalibrationRow {
  dimension: string;
  can_gate: boolean;
  reason: string;
}

/**
 * Judged dimensions that cannot gate, with the reason the report gives. `measured` says
 * where an agreement would have come from ("this cycle" for a cycle's gate); a dimension the
 * agent does not calibrate at all says how to start calibrating it.
 */
export function uncalibratedJudges(args: {
  judged: readonly string[];
  calibrations: readonly JudgeCalibrationRow[];
  /** The agent's evaluation.judge.dimensions: the ones reviewer labels calibrate. */
  calibratedByReviewers: readonly string[];
  measured: string;
}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of args.judged) {
    const c = args.calibrations.find((row) => row.dimension === d);
    if (c?.can_gate) continue;
    out[d] = c
      ? c.reason
      : args.calibratedByReviewers.includes(d)
        ? `no agreement with reviewers measured ${args.measured}`
        : 'no agreement with reviewers is measured for it: add it to evaluation.judge.dimensions so reviewer labels calibrate it';
  }
  return out;
}
