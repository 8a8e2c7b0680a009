import { z } from 'zod';

/**
 * The one contract every scorer answers with — code checks, LLM judges and human
 * reviewers alike — so they compose (a cascade, a composite), are stored in one table and
 * are easy to fake in tests.
 */
export const EvaluationSource = z.enum(['code', 'judge', 'human']);
export type EvaluationSource = z.infer<typeof EvaluationSource>;

/** Something specific an evaluator found, pointing at the step (and span) it concerns. */
export const Finding = z.object({
  /** A failure type of the evaluator, e.g. `wrong_tool`, `missing_action`, `invalid_arguments`. */
  kind: z.string().min(1),
  /** Index of the agent step (0-based) the finding concerns, when it concerns one. */
  step: z.number().int().nonnegative().nullable().default(null),
  spanId: z.string().optional(),
  detail: z.string(),
});
export type Finding = z.infer<typeof Finding>;

export const Evaluation = z.object({
  /** Which evaluator produced it, e.g. `gold_action_diff` or `judge:tool_selection`. */
  evaluator: z.string().min(1),
  /** What it measures, e.g. `task_completion`; several evaluators may share a dimension. */
  dimension: z.string().min(1),
  score: z.number().min(0).max(1),
  /** `pass` or `fail`; graded rubrics put their level into `score` and pass at their pass level. */
  label: z.string().min(1),
  explanation: z.string(),
  source: EvaluationSource,
  /** Money spent to produce it (judge tokens); 0 for code checks. */
  costUsd: z.number().nonnegative().default(0),
  /**
   * How far the verdict can be trusted, in [0, 1]. Code checks that decide are 1; the
   * cascade sends anything below its threshold to the judge.
   */
  confidence: z.number().min(0).max(1).default(1),
  /** A failure category for failing verdicts (the judge's, or the code check's type). */
  category: z.string().nullable().default(null),
  findings: z.array(Finding).default([]),
});
export type Evaluation = z.infer<typeof Evaluation>;
export type EvaluationInput = z.input<typeof Evaluation>;

/**
 * An evaluator that could not produce a score for a trace (a judge reply that failed its
 * schema twice, a model error). Recorded as such — never turned into a silent zero.
 */
export const EvaluatorError = z.object({
  evaluator: z.string().min(1),
  dimension: z.string().min(1),
  source: EvaluationSource,
  error: z.string().min(1),
  costUsd: z.number().nonnegative().default(0),
});
export type EvaluatorError = z.infer<typeof EvaluatorError>;

/** Builds a code evaluation (cost 0, confidence 1 unless said otherwise). */
export function codeEvaluation(
  e: Omit<EvaluationInput, 'source' | 'costUsd'> & { costUsd?: number },
): Evaluation {
  return Evaluation.parse({ ...e, source: 'code', costUsd: e.costUsd ?? 0 });
}
