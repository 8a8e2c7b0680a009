import { z } from 'zod';
import { JUDGE_DIMENSIONS } from './judge-dimensions.js';

/** The code dimension every gate measures: the replayed step against the annotated one. */
export const OUTCOME_DIMENSION = 'outcome_match';
/** The weighted mean of the measured dimensions (weights from the weighting policy). */
export const COMPOSITE_DIMENSION = 'composite';
/** Everything a gate assertion may name. */
export const GATE_DIMENSIONS: readonly string[] = [
  OUTCOME_DIMENSION,
  ...JUDGE_DIMENSIONS,
  COMPOSITE_DIMENSION,
];

const knownList = () => GATE_DIMENSIONS.join(', ');

function checkDimension(d: string, ctx: z.RefinementCtx, path: PropertyKey[], allowed = GATE_DIMENSIONS) {
  if (allowed.includes(d)) return;
  ctx.addIssue({
    code: 'custom',
    path,
    message: GATE_DIMENSIONS.includes(d)
      ? `dimension "${d}" cannot be used here; use one of ${allowed.join(', ')}`
      : `unknown gate dimension "${d}"; known dimensions: ${knownList()}`,
  });
}

const unit = (what: string) =>
  z.number().min(0, `${what} must be between 0 and 1`).max(1, `${what} must be between 0 and 1`);

const Dimension = z.string().superRefine((d, ctx) => checkDimension(d, ctx, []));

/** A record keyed by dimension; keys are checked like assertion dimensions. */
const dimensionRecord = <T extends z.ZodType>(value: T, allowed = GATE_DIMENSIONS) =>
  z.record(z.string(), value).superRefine((rec, ctx) => {
    for (const key of Object.keys(rec)) checkDimension(key, ctx, [key], allowed);
  });

/**
 * One gate assertion, in the style of promptfoo's: `mean` asks the candidate's mean on the
 * eval split to reach `threshold`; `pass_rate` asks "score ≥ threshold for at least
 * minPassRate of the cases" (with repeats, a case passes only when every run does: pass^k).
 */
export const GateAssertionConfig = z
  .object({
    dimension: Dimension,
    metric: z.enum(['mean', 'pass_rate']).default('mean'),
    threshold: unit('threshold'),
    minPassRate: unit('minPassRate').optional(),
    /** This dimension's weight in the composite unless `weighting.weights` names it. */
    weight: z.number().nonnegative('weight must be ≥ 0').optional(),
  })
  .superRefine((a, ctx) => {
    if (a.metric === 'pass_rate' && a.minPassRate === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['minPassRate'],
        message: `the pass_rate assertion on ${a.dimension} needs minPassRate (the share of cases that must reach the threshold, e.g. 0.9)`,
      });
    if (a.metric === 'mean' && a.minPassRate !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['minPassRate'],
        message: `minPassRate only applies to metric "pass_rate"; the assertion on ${a.dimension} uses "mean"`,
      });
    if (a.metric === 'pass_rate' && a.dimension === COMPOSITE_DIMENSION)
      ctx.addIssue({
        code: 'custom',
        path: ['metric'],
        message: 'the composite is gated on its mean; use metric "mean" for it',
      });
  });
export type GateAssertionConfig = z.infer<typeof GateAssertionConfig>;

/*
 * Each section's fields are declared once without defaults: the agent's config adds the
 * defaults, the cycle override leaves them out (zod would otherwise fill a partial override
 * with defaults that silently replace the agent's own values).
 */
const weighting = {
  /** Composite weights per dimension; an empty record = equal weights over the measured ones. */
  weights: dimensionRecord(
    z.number().nonnegative('weights must be ≥ 0'),
    GATE_DIMENSIONS.filter((d) => d !== COMPOSITE_DIMENSION),
  ),
  /** Hard minima of the candidate's mean per dimension: no composite gain buys them back. */
  floors: dimensionRecord(unit('a floor')),
};

const nonRegression = {
  /**
   * A dimension fails only when it is clearly worse: the upper end of the paired bootstrap
   * CI of (candidate − production) lies below −tolerance. Noise-level dips pass.
   */
  tolerance: unit('nonRegression.tolerance'),
  /** The same test within every slice tag (adversarial, category:…) of the eval split. */
  perSlice: z.boolean(),
  /** Slices smaller than this are reported but do not gate: their CIs say too little. */
  minSliceExamples: z.number().int().min(1, 'minSliceExamples must be ≥ 1'),
};

const bootstrap = {
  resamples: z
    .number()
    .int()
    .min(100, 'bootstrap.resamples must be at least 100')
    .max(100_000, 'bootstrap.resamples must be at most 100000'),
  confidence: z
    .number()
    .gt(0.5, 'bootstrap.confidence must be in (0.5, 1)')
    .lt(1, 'bootstrap.confidence must be in (0.5, 1)'),
};

const holdout = {
  /** Fail when the dataset version has no holdout examples. */
  required: z.boolean(),
  /** The candidate's composite may fall at most this far below production's on the holdout. */
  maxDrop: unit('holdout.maxDrop'),
};

const improvement = {
  dimension: Dimension,
  /** The candidate's mean must beat production's by more than this. */
  minDelta: unit('requireImprovement.minDelta'),
  /**
   * Also require the CI's lower end above minDelta. `auto` (the default) requires it once
   * the eval split has `intervalFromExamples` examples: on 10–20 examples a real gain rarely
   * clears a 95 % interval and the point mean (with non-regression guarding) decides; beyond
   * that a gain the interval cannot tell from zero is noise, and shipping noise is churn.
   */
  significant: z.union([z.boolean(), z.literal('auto')]),
  intervalFromExamples: z.number().int().min(1, 'requireImprovement.intervalFromExamples must be ≥ 1'),
};

const assertions = z.array(GateAssertionConfig);
/** Judge runs per example for noisy judge dimensions (distinct seeds); pass^k over them. */
const repeats = dimensionRecord(
  z.number().int().min(1, 'repeats must be ≥ 1').max(9, 'repeats must be ≤ 9'),
  JUDGE_DIMENSIONS,
);
const minEvalExamples = z.number().int().min(1, 'minEvalExamples must be ≥ 1');
/**
 * What a judge dimension below its calibration floor does to the gate. `report`: its
 * assertions are shown but do not gate, and the composite is made of the trusted dimensions
 * only, so the decision rests on what reviewers and gold expectations measured. `inconclusive`:
 * every assertion resting on it is inconclusive and the approver decides.
 */
const uncalibratedJudges = z.enum(['report', 'inconclusive']);

/** An agent's regression gate (agents.config.gate); every field has a default. */
export const GateConfig = z.object({
  /**
   * Absolute bars, none by default: an agent at 45 % that a candidate lifts to 55 % should
   * ship the gain. The default gate asks "better than production, worse nowhere" (the
   * improvement, non-regression overall and per slice, the holdout); a quality bar is the
   * team's product decision, set here.
   */
  assertions: assertions.default([]),
  weighting: z
    .object({
      weights: weighting.weights.default({ [OUTCOME_DIMENSION]: 0.5, task_completion: 0.5 }),
      floors: weighting.floors.default({}),
    })
    .prefault({}),
  nonRegression: z
    .object({
      tolerance: nonRegression.tolerance.default(0.02),
      perSlice: nonRegression.perSlice.default(true),
      minSliceExamples: nonRegression.minSliceExamples.default(8),
    })
    .prefault({}),
  bootstrap: z
    .object({
      resamples: bootstrap.resamples.default(1000),
      confidence: bootstrap.confidence.default(0.95),
    })
    .prefault({}),
  repeats: repeats.default({}),
  holdout: z
    .object({ required: holdout.required.default(false), maxDrop: holdout.maxDrop.default(0.05) })
    .prefault({}),
  minEvalExamples: minEvalExamples.default(5),
  uncalibratedJudges: uncalibratedJudges.default('report'),
  /** Shipping an equal prompt is churn: a strict gain on this dimension; null = not required. */
  requireImprovement: z
    .object({
      dimension: improvement.dimension.default(OUTCOME_DIMENSION),
      minDelta: improvement.minDelta.default(0),
      significant: improvement.significant.default('auto'),
      intervalFromExamples: improvement.intervalFromExamples.default(20),
    })
    .nullable()
    .prefault({}),
});
export type GateConfig = z.infer<typeof GateConfig>;
export type GateConfigInput = z.input<typeof GateConfig>;

/**
 * A cycle's override of the agent's gate: each field given replaces the agent's (nested
 * objects field by field). `thresholds` and `maxRegression` are the pre-assertion fields,
 * still accepted so cycles started with them keep their meaning.
 */
export const GateOverride = z.object({
  assertions: assertions.optional(),
  weighting: z.object(weighting).partial().optional(),
  nonRegression: z.object(nonRegression).partial().optional(),
  bootstrap: z.object(bootstrap).partial().optional(),
  repeats: repeats.optional(),
  holdout: z.object(holdout).partial().optional(),
  minEvalExamples: minEvalExamples.optional(),
  uncalibratedJudges: uncalibratedJudges.optional(),
  requireImprovement: z.object(improvement).partial().nullable().optional(),
  /** Legacy: minimum candidate mean per dimension (becomes `mean` assertions). */
  thresholds: dimensionRecord(unit('a threshold')).optional(),
  /** Legacy: becomes nonRegression.tolerance. */
  maxRegression: unit('maxRegression').optional(),
});
export type GateOverride = z.infer<typeof GateOverride>;

const defined = <T extends object>(o: T | undefined) =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined));

/** The gate a cycle runs: the agent's, with the cycle's override applied and re-validated. */
export function resolveGateConfig(agent: GateConfig, override: GateOverride | undefined): GateConfig {
  if (!override) return agent;
  const legacyAssertions = override.thresholds
    ? Object.entries(override.thresholds).map(([dimension, threshold]) => ({
        dimension,
        metric: 'mean' as const,
        threshold,
      }))
    : undefined;
  return GateConfig.parse({
    assertions: override.assertions ?? legacyAssertions ?? agent.assertions,
    weighting: { ...agent.weighting, ...defined(override.weighting) },
    nonRegression: {
      ...agent.nonRegression,
      ...(override.maxRegression !== undefined ? { tolerance: override.maxRegression } : {}),
      ...defined(override.nonRegression),
    },
    bootstrap: { ...agent.bootstrap, ...defined(override.bootstrap) },
    repeats: override.repeats ?? agent.repeats,
    holdout: { ...agent.holdout, ...defined(override.holdout) },
    minEvalExamples: override.minEvalExamples ?? agent.minEvalExamples,
    uncalibratedJudges: override.uncalibratedJudges ?? agent.uncalibratedJudges,
    requireImprovement:
      override.requireImprovement === null
        ? null
        : override.requireImprovement === undefined
          ? agent.requireImprovement
          : { ...agent.requireImprovement, ...defined(override.requireImprovement) },
  });
}

/**
 * Judge dimensions a gate configuration names anywhere: the ones the gate measures (the
 * default weighting names task_completion). Each costs judge calls per example and prompt,
 * and gates only while calibrated, so an agent's other scoring rubrics are not added.
 */
export function judgeDimensionsNamed(config: GateConfig): string[] {
  const named = [
    ...config.assertions.map((a) => a.dimension),
    ...Object.keys(config.weighting.weights),
    ...Object.keys(config.weighting.floors),
    ...Object.keys(config.repeats),
    ...(config.requireImprovement ? [config.requireImprovement.dimension] : []),
  ];
  return [...new Set(named.filter((d) => JUDGE_DIMENSIONS.includes(d)))].sort();
}
