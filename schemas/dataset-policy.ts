import { z } from 'zod';

/**
 * How an agent's dataset versions are split and kept clean: the share of new examples that
 * goes to eval and to holdout (the rest is train; stratified by failure cluster), when a
 * production example is retired as stale, and the Jaccard similarity at which two inputs in different
 * splits are near-duplicates (the gating one then moves to train).
 */
/** MinHash Jaccard similarity at which two inputs count as near-duplicates. */
export const DEFAULT_NEAR_DUPLICATE_THRESHOLD = 0.75;

export const DatasetPolicy = z
  .object({
    evalFraction: z.number().min(0).max(1).default(0.3),
    holdoutFraction: z.number().min(0).max(1).default(0.15),
    /**
     * Each cycle's dataset version retires the examples that came from production traces and
     * were first added more than this many days ago, recording each retirement with its reason
     * (imported examples stay until `dataset retire`). Absent: nothing ages out.
     */
    stalenessDays: z.number().int().positive().optional(),
    nearDuplicateThreshold: z.number().gt(0).max(1).default(DEFAULT_NEAR_DUPLICATE_THRESHOLD),
  })
  .refine((p) => p.evalFraction + p.holdoutFraction < 1, {
    message: 'evalFraction + holdoutFraction must stay below 1 so that train keeps examples',
  });
export type DatasetPolicy = z.infer<typeof DatasetPolicy>;
