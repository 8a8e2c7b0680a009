import { z } from 'zod';
import { ConditionSyntaxError, parseCondition } from './analysis-condition.js';

/** Online metrics an analysis can read from traces, split by the prompt version that served them. */
export const ROLLOUT_METRICS = [
  'success_rate',
  'negative_feedback_rate',
  'escalation_rate',
  'error_rate',
  'latency_p95_ms',
  'cost_per_trace_usd',
  'judge_pass_rate',
] as const;
export const RolloutMetricName = z.enum(ROLLOUT_METRICS, {
  error: (issue) => `unknown metric ${JSON.stringify(issue.input)}; use one of ${ROLLOUT_METRICS.join(', ')}`,
});
export type RolloutMetricName = z.infer<typeof RolloutMetricName>;

/**
 * Metrics that are a share of traces (or of judged traces): each trace counts 0 or 1, so the
 * analysis judges their conditions with the sequential test. Latency and cost are compared
 * on their point values.
 */
export const RATE_METRICS = [
  'success_rate',
  'negative_feedback_rate',
  'escalation_rate',
  'error_rate',
  'judge_pass_rate',
] as const satisfies readonly RolloutMetricName[];
export const isRateMetric = (name: RolloutMetricName): name is (typeof RATE_METRICS)[number] =>
  (RATE_METRICS as readonly string[]).includes(name);

const ConditionText = z.string().superRefine((text, ctx) => {
  try {
    parseCondition(text);
  } catch (e) {
    if (!(e instanceof ConditionSyntaxError)) throw e;
    ctx.addIssue({ code: 'custom', message: e.message });
  }
});

/**
 * One metric of an analysis, Argo-style: a measurement fails, succeeds, or is inconclusive.
 * For a rate metric a condition must hold with the template's confidence (see
 * release/rollout-analysis.ts); for latency and cost it is read on the point values.
 */
export const AnalysisMetric = z
  .object({
    name: RolloutMetricName,
    /** e.g. "result >= baseline - 0.05". Ruled out (and no failure condition) → failed. */
    successCondition: ConditionText.optional(),
    /** e.g. "result > baseline + 0.1". Holds → failed, whatever the success condition says. */
    failureCondition: ConditionText.optional(),
  })
  .strict()
  .refine((m) => m.successCondition !== undefined || m.failureCondition !== undefined, {
    message: 'a metric needs a successCondition, a failureCondition or both',
  });
export type AnalysisMetric = z.infer<typeof AnalysisMetric>;

const DEFAULT_METRICS: AnalysisMetric[] = [
  { name: 'success_rate', failureCondition: 'result < baseline - 0.1' },
  { name: 'negative_feedback_rate', failureCondition: 'result > baseline + 0.1' },
];

const analysisFields = {
  metrics: z.array(AnalysisMetric).min(1),
  /** Seconds between measurements; the first is taken one interval after the step starts. */
  intervalSeconds: z.number().int().positive(),
  /** Measurements before the analysis is successful. */
  count: z.number().int().positive(),
  /** Failed measurements tolerated; one more fails the analysis. */
  failureLimit: z.number().int().nonnegative(),
  /**
   * Inconclusive measurements tolerated; one more pauses the rollout for a human. This bounds
   * how long a step keeps measuring when traffic is too thin to decide: the sequential test
   * stays valid over any number of looks, so the bound is about time, not error rates.
   */
  inconclusiveLimit: z.number().int().nonnegative(),
  /** Traces per variant in the window before a measurement may conclude anything. */
  minSamples: z.number().int().positive(),
  /**
   * Rate metrics: the chance that the sequential test's confidence sequence ever misses the
   * true difference, however many measurements look at it (a wrong verdict needs that miss).
   */
  alpha: z.number().gt(0, 'alpha is a probability above 0').max(0.5, 'alpha is at most 0.5'),
  /** Rate metrics: the power the minimum sample is sized for (see `minimumDetectableEffect`). */
  power: z.number().min(0.5, 'power is a probability from 0.5').lt(1, 'power is a probability below 1'),
  /**
   * Rate metrics, in rate points (0.1 = 10 points): a step may succeed only once it has the
   * sample a fixed-size test at `alpha` needs to detect a difference this large with `power`
   * (smaller asks for more traffic). Also the scale of the sequential test's mixture.
   */
  minimumDetectableEffect: z
    .number()
    .gt(0, 'minimumDetectableEffect is a difference in rate points, above 0')
    .max(1, 'minimumDetectableEffect is a difference in rate points, at most 1'),
  /** Traces per variant the judge scores per measurement, for `judge_pass_rate`. */
  judgeSample: z.number().int().nonnegative(),
};

/** Argo's AnalysisTemplate, measured on traces of the candidate and the baseline version. */
export const AnalysisTemplate = z
  .object({
    metrics: analysisFields.metrics.default(DEFAULT_METRICS),
    intervalSeconds: analysisFields.intervalSeconds.default(300),
    count: analysisFields.count.default(3),
    failureLimit: analysisFields.failureLimit.default(0),
    inconclusiveLimit: analysisFields.inconclusiveLimit.default(11),
    minSamples: analysisFields.minSamples.default(20),
    alpha: analysisFields.alpha.default(0.05),
    power: analysisFields.power.default(0.8),
    minimumDetectableEffect: analysisFields.minimumDetectableEffect.default(0.1),
    judgeSample: analysisFields.judgeSample.default(20),
  })
  .strict();
/** A step's overrides of the rollout's template: no defaults, so unset fields inherit. */
export const AnalysisOverride = z.object(analysisFields).partial().strict();
export type AnalysisTemplate = z.infer<typeof AnalysisTemplate>;
export type AnalysisTemplateArg = z.input<typeof AnalysisTemplate>;

/** Open-loop evaluation before any user sees the candidate. */
export const ReplayStep = z
  .object({
    /** Most recent production traces (served by the baseline) re-run with the candidate. */
    traces: z.number().int().positive().default(50),
    /** Candidate pass rate may trail the recorded answers' by at most this much. */
    maxPassRateDrop: z.number().min(0).max(1).default(0.05),
    minTraces: z.number().int().positive().default(10),
  })
  .strict();

/** The candidate answers a share of live inputs next to production, without serving them. */
export const ShadowStep = z
  .object({
    durationSeconds: z.number().int().positive(),
    sampleRate: z.number().gt(0).max(1).default(0.2),
    maxTraces: z.number().int().positive().default(200),
    maxPassRateDrop: z.number().min(0).max(1).default(0.05),
    minTraces: z.number().int().positive().default(10),
  })
  .strict();

const Weight = z
  .number({ error: 'setWeight takes a percentage' })
  .min(0, 'a weight is a percentage from 0 to 100')
  .max(100, 'a weight is a percentage from 0 to 100');

const STEP_KINDS = {
  setWeight: z.object({ setWeight: Weight }).strict(),
  /** No duration: wait until a human resumes or promotes. */
  pause: z
    .object({ pause: z.object({ durationSeconds: z.number().int().positive().optional() }).strict() })
    .strict(),
  /** Overrides of the rollout's analysis template for this step. */
  analysis: z.object({ analysis: AnalysisOverride.prefault({}) }).strict(),
  replay: z.object({ replay: ReplayStep.prefault({}) }).strict(),
  shadow: z.object({ shadow: ShadowStep }).strict(),
};
type StepKindsIn = {
  [K in keyof typeof STEP_KINDS]: z.input<(typeof STEP_KINDS)[K]>;
}[keyof typeof STEP_KINDS];

/**
 * One step, Argo-style: an object with exactly one key naming its kind. Dispatching on the
 * key (rather than trying a plain union) lets an error say what is wrong with *that* step,
 * e.g. "a weight is a percentage from 0 to 100", instead of "invalid input".
 */
// z.custom types the input for callers; the transform does the real validation.
export const RolloutStepSpec = z
  .custom<StepKindsIn>(() => true)
  .transform((raw: unknown, ctx) => {
    const keys = raw !== null && typeof raw === 'object' ? Object.keys(raw) : [];
    const kind = keys[0] as keyof typeof STEP_KINDS;
    if (keys.length !== 1 || !(kind in STEP_KINDS)) {
      ctx.addIssue({
        code: 'custom',
        message: `a step is one of { setWeight }, { pause }, { analysis }, { replay }, { shadow }; got ${JSON.stringify(raw)}`,
      });
      return z.NEVER;
    }
    const parsed = STEP_KINDS[kind].safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      return z.NEVER;
    }
    return parsed.data;
  });
export type RolloutStepSpec = z.infer<typeof RolloutStepSpec>;

export const RolloutConfig = z
  .object({
    steps: z
      .array(RolloutStepSpec)
      .min(1)
      .default([
        { replay: { traces: 50, maxPassRateDrop: 0.05, minTraces: 10 } },
        { setWeight: 10 },
        { analysis: {} },
        { setWeight: 50 },
        { analysis: {} },
        { setWeight: 100 },
      ]),
    /** The analysis every `analysis` step starts from. */
    analysis: AnalysisTemplate.prefault({}),
    /** Agent actions that count as an escalation to a human (besides outcome "escalated"). */
    escalationActions: z.array(z.string().min(1)).default([]),
  })
  .strict();
export type RolloutConfig = z.infer<typeof RolloutConfig>;
export type RolloutConfigArg = z.input<typeof RolloutConfig>;

/** A short label for a step, for summaries, status and the audit log. */
export function describeStep(step: RolloutStepSpec): string {
  if ('setWeight' in step) return `setWeight ${step.setWeight}%`;
  if ('pause' in step)
    return step.pause.durationSeconds === undefined
      ? 'pause (until resumed)'
      : `pause ${step.pause.durationSeconds}s`;
  if ('analysis' in step) return 'analysis';
  if ('replay' in step) return `replay ${step.replay.traces} traces`;
  return `shadow ${step.shadow.durationSeconds}s at ${Math.round(step.shadow.sampleRate * 100)}%`;
}
