import { z } from 'zod';
import { CoachingSet } from './coaching.js';

const Interval = z.tuple([z.number(), z.number()]);

/** One line of a gate report: what was asserted, whether it held, and the numbers behind it. */
export const GateAssertionResult = z.object({
  name: z.string(),
  passed: z.boolean(),
  /** Neither passed nor failed: it rests on an uncalibrated judge or on nothing measured. */
  inconclusive: z.boolean().optional(),
  /** false: shown for information, left out of the verdict (it rests on an uncalibrated judge). */
  gating: z.boolean().optional(),
  detail: z.string(),
  // The numbers are optional: reports stored before configurable assertions have none.
  kind: z.string().optional(),
  dimension: z.string().optional(),
  slice: z.string().optional(),
  value: z.number().nullable().optional(),
  threshold: z.number().nullable().optional(),
  /** candidate − production (mean, or pass rate for pass_rate assertions). */
  delta: z.number().nullable().optional(),
  /** Paired bootstrap interval of the delta. */
  ci: Interval.nullable().optional(),
});
export type GateAssertionResult = z.infer<typeof GateAssertionResult>;

export const GateSliceRow = z.object({
  slice: z.string(),
  dimension: z.string(),
  examples: z.number().int(),
  candidate: z.number().nullable(),
  baseline: z.number().nullable(),
  delta: z.number().nullable(),
  ci: Interval.nullable(),
  /** The smallest gain this slice could detect at 80 % power (absent in older reports). */
  minimumDetectableEffect: z.number().nullable().optional(),
  /** Large enough (minSliceExamples) to gate. */
  gated: z.boolean(),
  regressed: z.boolean(),
});
export type GateSliceRow = z.infer<typeof GateSliceRow>;

export const GatePassK = z.object({
  dimension: z.string(),
  k: z.number().int(),
  passAt: z.number(),
  candidate: z.object({ passK: z.number().nullable(), passAt1: z.number().nullable() }),
  baseline: z.object({ passK: z.number().nullable(), passAt1: z.number().nullable() }),
});
export type GatePassK = z.infer<typeof GatePassK>;

export const GateHoldoutResult = z.object({
  examples: z.number().int(),
  candidate: z.record(z.string(), z.number()),
  baseline: z.record(z.string(), z.number()),
  /** candidate − production of the composite; null without holdout examples. */
  delta: z.number().nullable(),
  ci: Interval.nullable(),
  maxDrop: z.number(),
  required: z.boolean(),
});
export type GateHoldoutResult = z.infer<typeof GateHoldoutResult>;

/** What the gate found of one member of a coaching set, on the examples that recalled it. */
export const CoachingMemberAttribution = z.object({
  id: z.string(),
  version: z.number().int(),
  /**
   * Eval examples whose conversation recalled it in the candidate's arm, and the cycle's
   * recent judge-passed conversations that recall it (replayed against the step taken then).
   */
  recalled: z.number().int(),
  /** Of those, how many scored better with the set than without it, and how many worse. */
  better: z.number().int(),
  worse: z.number().int(),
  /** False: left out of the release (more worse than better). */
  kept: z.boolean(),
  /** Left out with enough evidence (≥ 2 made worse) that the gate retires it too. */
  retire: z.boolean().optional(),
  detail: z.string(),
});
export type CoachingMemberAttribution = z.infer<typeof CoachingMemberAttribution>;

/** gate_reports.report: the full decision, failing assertions first. */
export const GateReport = z.object({
  /** True only when every assertion passed conclusively. */
  passed: z.boolean(),
  /** `inconclusive`: nothing failed, but some assertion could not be decided. */
  verdict: z.enum(['pass', 'fail', 'inconclusive']),
  /** The first failing (else first inconclusive) assertion, so an operator knows why at once. */
  failingAssertion: z.string().nullable(),
  assertions: z.array(GateAssertionResult),
  /** Means per dimension on the eval split (composite included in version 2). */
  candidate: z.record(z.string(), z.number()),
  baseline: z.record(z.string(), z.number()),
  evalExamples: z.number().int(),
  /** Per dimension, the smallest gain the eval split could detect at 80 % power. */
  minimumDetectableEffect: z.record(z.string(), z.number().nullable()).optional(),
  // Version 2 (configurable gate); absent from reports stored before it.
  version: z.literal(2).optional(),
  composite: z
    .object({
      weights: z.record(z.string(), z.number()),
      candidate: z.number().nullable(),
      baseline: z.number().nullable(),
      delta: z.number().nullable(),
      ci: Interval.nullable(),
    })
    .optional(),
  slices: z.array(GateSliceRow).optional(),
  holdout: GateHoldoutResult.nullable().optional(),
  passK: z.array(GatePassK).optional(),
  bootstrap: z.object({ resamples: z.number(), confidence: z.number(), seed: z.number() }).optional(),
  /** The gate configuration the decision applied (agent's, with the cycle's override). */
  config: z.record(z.string(), z.unknown()).optional(),
  /**
   * The coaching the replay inserted: how many active memories both arms recalled, and the
   * candidate coaching set only the candidate's arm recalled (released with it). Absent:
   * the agent had no coaching, and both arms replayed the prompt alone.
   */
  coaching: z
    .object({
      active: z.number().int(),
      /** The candidate coaching released with the candidate (after any member was left out). */
      set: CoachingSet,
      /**
       * Each candidate member's own evidence: the examples that recalled it, scored with and
       * without the set. Absent from reports stored before per-member attribution.
       */
      members: z.array(CoachingMemberAttribution).optional(),
      /**
       * The members left out because they made more examples worse than better (a cycle's
       * gate retires those marked `retire`; `flywheel eval` only reports them).
       */
      dropped: CoachingSet.optional(),
    })
    .optional(),
});
export type GateReport = z.infer<typeof GateReport>;
