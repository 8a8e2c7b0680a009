import { z } from 'zod';
import { JUDGE_DIMENSIONS } from './judge-dimensions.js';
import { CodeEvaluatorConfig } from './code-evaluator-config.js';

/**
 * How an agent's traces are scored and diagnosed: which code checks run, which judge
 * rubrics, how the cascade spends judge calls, when a judge may gate, and how failures
 * are clustered. Stored with the agent; every field has a default.
 */
export const EvaluationConfig = z.object({
  code: CodeEvaluatorConfig.prefault({}),
  judge: z
    .object({
      /** Rubric dimensions the judge scores (see evaluation/judge-rubrics.ts). */
      dimensions: z
        .array(z.string())
        .min(1)
        .default(['task_completion'])
        .superRefine((dims, ctx) => {
          dims.forEach((d, i) => {
            if (!JUDGE_DIMENSIONS.includes(d)) {
              ctx.addIssue({
                code: 'custom',
                path: [i],
                message: `unknown judge dimension "${d}"; use one of ${JUDGE_DIMENSIONS.join(', ')}`,
              });
            }
          });
        }),
      /** Samples per rubric and trace; more than one measures the judge's self-agreement. */
      repeats: z.number().int().min(1).max(9).default(1),
      /** Reviewer corrections shown as few-shot examples (newest first). */
      fewShot: z.number().int().min(0).max(10).default(3),
      /** USD per million tokens, for the cost of each judge evaluation. */
      priceUsdPerMillionTokens: z
        .object({ input: z.number().nonnegative().default(0), output: z.number().nonnegative().default(0) })
        .prefault({}),
    })
    .prefault({}),
  cascade: z
    .object({
      /** Off: every configured rubric runs on every trace. */
      enabled: z.boolean().default(true),
      /** A code verdict at or above this confidence decides its dimension without the judge. */
      minCodeConfidence: z.number().min(0).max(1).default(0.9),
      /**
       * Share of code-decided traces the judge still sees (chosen by hash), so its agreement
       * with code and humans keeps being measured where it is not needed.
       */
      auditShare: z.number().min(0).max(1).default(0.1),
    })
    .prefault({}),
  calibration: z
    .object({
      minLabels: z.number().int().min(1).default(8),
      minKappa: z.number().min(-1).max(1).default(0.4),
      minF1: z.number().min(0).max(1).optional(),
    })
    .prefault({}),
  clustering: z
    .object({
      minClusterSize: z.number().int().min(2).default(3),
      minSamples: z.number().int().min(1).optional(),
      /**
       * Cosine distance below which HDBSCAN does not split a cluster further: failures of
       * one mode phrased a few ways stay one cluster. Depends on the embedder's geometry.
       */
      selectionEpsilon: z.number().min(0).max(1).default(0.15),
      /** Centroid cosine similarity at which a cluster keeps the id of last cycle's cluster. */
      // Measured: one mode across two cycles 0.69–0.95, different modes ≤ 0.25 (local TF-IDF).
      matchSimilarity: z.number().min(0).max(1).default(0.6),
      /** Member overlap (Jaccard) at which it does. */
      matchOverlap: z.number().min(0).max(1).default(0.5),
    })
    .prefault({}),
});
export type EvaluationConfig = z.infer<typeof EvaluationConfig>;
