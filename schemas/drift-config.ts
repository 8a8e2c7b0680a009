import { z } from 'zod';

/** What the detector watches; each is tested per slice, in the direction that is worse. */
export const DRIFT_METRICS = [
  'judge_fail',
  'negative_feedback',
  'escalation',
  'error',
  'latency',
  'cost',
  'input',
] as const;
export const DriftMetric = z.enum(DRIFT_METRICS);
export type DriftMetric = z.infer<typeof DriftMetric>;

/**
 * An agent's drift alert settings. Defaults were chosen on calibration seeds of
 * `bench:drift` (bench/drift-bench.ts), separate from the seeds it reports.
 */
export const DriftConfig = z.object({
  enabled: z.boolean().default(false),
  /** The current (sliding) window: drift is looked for in the traces of the last this many hours. */
  currentWindowHours: z.number().positive().default(24),
  /** The reference window just before it, at most this long. */
  referenceWindowHours: z.number().positive().default(96),
  /**
   * No test runs until the reference holds this many hours of traffic: after the agent starts
   * and after every alert, which starts a new reference from the alert on (so one drift raises
   * one alert, and the drifted behaviour becomes the new normal until a cycle changes it).
   */
  minReferenceHours: z.number().positive().default(48),
  /** How often the detector looks. */
  checkEveryMinutes: z.number().positive().default(60),
  /**
   * The false-alarm budget: expected alerts per 30 days on traffic that does not change. It is
   * split evenly over the checks of 30 days and, at each check, over the tests run
   * (metrics × slices: Bonferroni), so the bound holds however correlated the tests are.
   */
  falseAlarmsPer30Days: z.number().positive().max(30).default(0.2),
  /**
   * Fewest traces a window needs for a slice's metric to be tested at all. The rate tests are
   * exact and Tarone's count drops those too small to reject, so these stay low: at 30 a
   * slice of 20 traces a day was never tested within one window (calibration seeds).
   */
  minCurrentSamples: z.number().int().positive().default(10),
  minReferenceSamples: z.number().int().positive().default(30),
  metrics: z
    .array(DriftMetric)
    .min(1)
    .default([...DRIFT_METRICS]),
  /** Slices to watch besides `all`; absent: every slice the traces carry. */
  slices: z.array(z.string().min(1)).optional(),
  /** Input prototypes for the embedding-shift test. */
  inputPrototypes: z.number().int().min(2).max(256).default(16),
  /** Trace ids quoted per finding as examples. */
  sampleTraces: z.number().int().min(0).max(50).default(5),
  /** Cap on the drifted trace ids an alert carries for the early cycle to sample at 100 %. */
  maxDriftedTraces: z.number().int().min(0).max(10_000).default(500),
  /** Start the agent's next cycle as soon as an alert goes out. */
  startCycleOnAlert: z.boolean().default(false),
});
export type DriftConfig = z.infer<typeof DriftConfig>;
export type DriftConfigInput = z.input<typeof DriftConfig>;
