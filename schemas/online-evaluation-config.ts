import { z } from 'zod';

/**
 * Online evaluation: a share of the agent's live traces scored as they arrive (every few
 * minutes, off the ingest path) by the cycle's own evaluators — code checks, then the judge's
 * active rubrics where the cascade asks for them — within a daily cost cap. The scores land
 * in `scores` with a null cycle; the drift check reads their verdicts, and failing traces are
 * sampled at 100 % by the agent's next cycle, where reviewers confirm them into the
 * regression suite.
 */
/** The longest a run's pacing may stretch it. */
const MAX_RUN_SECONDS = 20 * 60;

export const OnlineEvaluationConfig = z
  .object({
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
     * A run starts at most this many traces a second. Online evaluation shares the database
     * (and often the machine) with ingest; scoring a batch as fast as the model answers comes
     * in bursts that stretch ingest's tail latency (bench:online-ingest), while the same work
     * spread over the schedule's interval does not. The default covers a full batch in about
     * two minutes, well inside the 5-minute schedule.
     */
    maxTracesPerSecond: z.number().positive().max(1000).default(4),
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
  })
  .refine((c) => c.maxTracesPerRun / c.maxTracesPerSecond <= MAX_RUN_SECONDS, {
    message: `maxTracesPerRun / maxTracesPerSecond must be at most ${MAX_RUN_SECONDS} seconds (a run must finish well inside its activity's 30-minute limit): raise maxTracesPerSecond or lower maxTracesPerRun`,
    path: ['maxTracesPerSecond'],
  });
export type OnlineEvaluationConfig = z.infer<typeof OnlineEvaluationConfig>;
