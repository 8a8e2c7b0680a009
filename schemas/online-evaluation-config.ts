import { z } from 'zod';

/**
 * Online evaluation: a share of the agent's live traces scored as they arrive (every few
 * minutes, off the ingest path) by the cycle's own evaluators — code checks, then the judge's
 * active rubrics where the cascade asks for them — within a daily cost cap. The scores land
 * in `scores` with a null cycle; the drift check reads their verdicts, and failing traces are
 * sampled at 100 % by the agent's next cycle, where reviewers confirm them into the
 * regression suite.
 */
export const OnlineEvaluationConfig = z.object({
  enabled: z.boolean().default(false),
  /**
   * Share of incoming traces scored, chosen by the trace's sample key (a hash of its id), so
   * the choice is stable across retries and the same for every process.
   */
  sampleShare: z.number().min(0).max(1).default(0.1),
  /**
   * The most the judge may cost per UTC day, in USD, at the judge's configured price
   * (`evaluation.judge.priceUsdPerMillionTokens`). Traces beyond it wait for the next day's
   * budget only if they are still within `lateArrivalMinutes`; otherwise they stay unscored
   * and are counted as skipped for the cap. Code checks cost nothing and always run.
   */
  dailyCostCapUsd: z.number().nonnegative().default(5),
  /** Traces of one run at most; the rest wait for the next run. */
  maxTracesPerRun: z.number().int().positive().max(10_000).default(500),
  /**
   * A trace is scored once it is this old, so its spans have arrived; and each run looks
   * back this far before the last run's end for traces that arrived late.
   */
  settleSeconds: z.number().int().nonnegative().max(3600).default(60),
  lateArrivalMinutes: z
    .number()
    .int()
    .nonnegative()
    .max(24 * 60)
    .default(30),
  /** The next cycle samples the traces online evaluation failed, at 100 %, up to this many. */
  failuresPerCycle: z.number().int().nonnegative().max(10_000).default(100),
});
export type OnlineEvaluationConfig = z.infer<typeof OnlineEvaluationConfig>;
