import {
  evaluateCondition,
  parseCondition,
  usesBaseline,
  type Condition,
} from '../schemas/analysis-condition.js';
import {
  isRateMetric,
  type AnalysisMetric,
  type AnalysisTemplate,
  type RolloutMetricName,
} from '../schemas/rollout-config.js';
import { conditionEvidence, type Evidence } from './condition-evidence.js';
import {
  powerCheck,
  rateContrastSequence,
  type ContrastSequence,
  type RateCounts,
} from './sequential-test.js';

/** One variant's traffic in the measurement window. */
export interface VariantMetrics {
  /** Traces served by this version in the window. */
  samples: number;
  /** Traces the judge scored (for judge_pass_rate). */
  judged: number;
  /** null: not measurable (no latency recorded, nothing judged, …). */
  values: Partial<Record<RolloutMetricName, number | null>>;
}

export type MeasurementPhase = 'successful' | 'failed' | 'inconclusive';

/** What the sequential test saw for a rate metric. */
export interface RateEvidence {
  candidate: RateCounts;
  baseline: RateCounts | null;
  /**
   * The contrast shown, result − scale·baseline: 1 for the difference from the baseline, 0 for
   * the candidate's rate alone (no condition reads the baseline).
   */
  scale: number;
  estimate: number;
  low: number;
  high: number;
  /** 1 − alpha. */
  confidence: number;
  /** Candidate traces the step needs before it may succeed (the minimum sample from power). */
  candidateTracesNeeded: number;
}

export interface MetricMeasurement {
  name: RolloutMetricName;
  candidate: number | null;
  baseline: number | null;
  phase: MeasurementPhase;
  reason: string;
  /** Rate metrics only. */
  evidence?: RateEvidence;
}

export interface Measurement {
  phase: MeasurementPhase;
  metrics: MetricMeasurement[];
  candidateSamples: number;
  baselineSamples: number;
  reason: string;
}

/** The template fields a single metric's verdict depends on. */
export type MetricSettings = Pick<
  AnalysisTemplate,
  'minSamples' | 'alpha' | 'power' | 'minimumDetectableEffect'
>;

const fmt = (x: number | null) => (x === null ? 'n/a' : Number.isInteger(x) ? String(x) : x.toFixed(3));
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
const pct = (x: number) => `${+(x * 100).toFixed(1)}%`;

/**
 * One metric. Too little traffic (fewer than `minSamples` traces on a version the metric
 * reads), or a value that could not be measured, is inconclusive: no evidence is not evidence
 * of safety. Otherwise, Argo semantics: the failure condition holding → failed; else the
 * success condition holding → successful; a success condition that does not hold → failed
 * when there is no failure condition, inconclusive when both are defined. A metric with only a
 * failure condition succeeds when that condition does not hold.
 *
 * Rate metrics read "holds" and "does not hold" with confidence (see rateMetric); latency and
 * cost read them on the point values.
 */
export function measureMetric(
  metric: AnalysisMetric,
  candidate: VariantMetrics,
  baseline: VariantMetrics,
  settings: MetricSettings,
): MetricMeasurement {
  const c = candidate.values[metric.name] ?? null;
  const b = baseline.values[metric.name] ?? null;
  const conditions = [metric.successCondition, metric.failureCondition].filter((x) => x !== undefined);
  const needsBaseline = conditions.some((t) => usesBaseline(parseCondition(t)));
  const count = (v: VariantMetrics) => (metric.name === 'judge_pass_rate' ? v.judged : v.samples);
  const base = { name: metric.name, candidate: c, baseline: b };
  const { minSamples } = settings;
  if (count(candidate) < minSamples || (needsBaseline && count(baseline) < minSamples)) {
    return {
      ...base,
      phase: 'inconclusive',
      reason: `${metric.name}: not enough traffic (candidate ${count(candidate)}${needsBaseline ? `, baseline ${count(baseline)}` : ''}; need ${minSamples})`,
    };
  }
  if (c === null || (needsBaseline && b === null)) {
    return { ...base, phase: 'inconclusive', reason: `${metric.name}: not measured on this traffic` };
  }
  if (isRateMetric(metric.name)) {
    const counts = (rate: number, v: VariantMetrics): RateCounts => {
      const trials = count(v);
      return { successes: Math.round(rate * trials), trials };
    };
    return {
      ...rateMetric(metric, counts(c, candidate), b === null ? null : counts(b, baseline), settings),
      ...base,
    };
  }
  const shown = `${metric.name} ${fmt(c)}${needsBaseline ? ` vs baseline ${fmt(b)}` : ''}`;
  if (metric.failureCondition && evaluateCondition(parseCondition(metric.failureCondition), c, b)) {
    return {
      ...base,
      phase: 'failed',
      reason: `${shown}: failure condition "${metric.failureCondition}" met`,
    };
  }
  if (metric.successCondition) {
    if (evaluateCondition(parseCondition(metric.successCondition), c, b))
      return { ...base, phase: 'successful', reason: `${shown}: "${metric.successCondition}" holds` };
    return metric.failureCondition
      ? { ...base, phase: 'inconclusive', reason: `${shown}: neither condition met` }
      : {
          ...base,
          phase: 'failed',
          reason: `${shown}: success condition "${metric.successCondition}" not met`,
        };
  }
  return { ...base, phase: 'successful', reason: `${shown}: failure condition not met` };
}

/**
 * A rate metric, decided by the sequential test (release/sequential-test.ts). Each comparison
 * `result OP scale·baseline + N` is judged on the confidence sequence of
 * result − scale·baseline over all traffic since the step began: it holds when the whole
 * interval satisfies it, does not hold when none of it does, and is undecided otherwise, so
 * a verdict is wrong only if the sequence missed (chance ≤ alpha over every look). With the
 * default `result < baseline - 0.1`, that is: failed when the candidate is worse by more than
 * 10 points with confidence, successful when it is not (non-inferiority), otherwise keep
 * measuring.
 *
 * Failing needs only that evidence: an always-valid test may stop at any look, and a real
 * regression should stop early. Succeeding also needs the minimum samples from power: as many
 * traces as a fixed-sample test at `alpha` would need to detect a `minimumDetectableEffect`
 * difference with probability `power`, so "not worse" is never declared on a sample too small
 * to have seen a regression of that size. Until then the metric is inconclusive, never failed.
 */
function rateMetric(
  metric: AnalysisMetric,
  candidate: RateCounts,
  baseline: RateCounts | null,
  settings: MetricSettings,
): MetricMeasurement {
  const success = metric.successCondition ? parseCondition(metric.successCondition) : null;
  const failure = metric.failureCondition ? parseCondition(metric.failureCondition) : null;
  const scales = [...new Set([success, failure].flatMap((c) => (c ?? []).flat().map((x) => x.scale)))];
  const sequences = new Map<number, ContrastSequence>(
    scales.map((k) => [k, rateContrastSequence(candidate, baseline, k, settings)]),
  );
  const intervalFor = (k: number) => sequences.get(k)!;
  const judge = (c: Condition | null): Evidence | undefined =>
    c ? conditionEvidence(c, intervalFor) : undefined;
  const failureHolds = judge(failure);
  const successHolds = judge(success);

  // Shown: the candidate − baseline difference when a condition reads the baseline.
  const shownScale = scales.includes(1) ? 1 : (scales.find((k) => k !== 0) ?? 0);
  const shownSequence = intervalFor(shownScale);
  const power = scales.map((k) => powerCheck(candidate, baseline, k, settings));
  const needed = Math.max(...power.map((p) => p.candidateTracesNeeded));
  const ready = power.every((p) => p.ready);
  const confidence = 1 - settings.alpha;
  const evidence: RateEvidence = {
    candidate,
    baseline,
    scale: shownScale,
    estimate: shownSequence.estimate,
    low: shownSequence.low,
    high: shownSequence.high,
    confidence,
    candidateTracesNeeded: needed,
  };
  const rate = (x: RateCounts) => x.successes / x.trials;
  const shown =
    `${metric.name} ${fmt(rate(candidate))} (${candidate.successes}/${candidate.trials})` +
    (shownScale !== 0 && baseline
      ? ` vs baseline ${fmt(rate(baseline))} (${baseline.successes}/${baseline.trials}); ` +
        `${shownScale === 1 ? 'difference' : `result − ${shownScale}·baseline`} ${signed(shownSequence.estimate)}`
      : '') +
    `, ${pct(confidence)} confidence sequence [${signed(shownSequence.low)}, ${signed(shownSequence.high)}]`;
  const out = (phase: MeasurementPhase, why: string): MetricMeasurement => ({
    name: metric.name,
    candidate: rate(candidate),
    baseline: baseline ? rate(baseline) : null,
    phase,
    reason: `${shown}: ${why}`,
    evidence,
  });

  if (failureHolds === true)
    return out(
      'failed',
      `failure condition "${metric.failureCondition}" holds with ${pct(confidence)} confidence`,
    );
  if (successHolds === false && failureHolds === undefined)
    return out(
      'failed',
      `success condition "${metric.successCondition}" ruled out with ${pct(confidence)} confidence`,
    );
  const succeeds = success
    ? successHolds === true && (failureHolds === undefined || failureHolds === false)
    : failureHolds === false;
  const powerNote =
    `the minimum sample for a ${fmt(settings.minimumDetectableEffect)} difference at ${pct(settings.power)} power ` +
    `is about ${needed} candidate traces at this split (have ${candidate.trials})`;
  if (!succeeds)
    return out(
      'inconclusive',
      successHolds === false
        ? `between the conditions: the success condition is ruled out, the failure condition not shown`
        : `not decided yet, keep measuring${ready ? '' : `; ${powerNote}`}`,
    );
  if (!ready) return out('inconclusive', `not enough traffic to promote yet: ${powerNote}`);
  return out(
    'successful',
    success
      ? `"${metric.successCondition}" holds with ${pct(confidence)} confidence`
      : `failure condition "${metric.failureCondition}" ruled out with ${pct(confidence)} confidence`,
  );
}

/** A measurement fails when any metric failed, is inconclusive when any was, else succeeds. */
export function measure(
  template: Pick<AnalysisTemplate, 'metrics'> & MetricSettings,
  candidate: VariantMetrics,
  baseline: VariantMetrics,
): Measurement {
  const metrics = template.metrics.map((m) => measureMetric(m, candidate, baseline, template));
  const failed = metrics.filter((m) => m.phase === 'failed');
  const inconclusive = metrics.filter((m) => m.phase === 'inconclusive');
  const phase: MeasurementPhase = failed.length
    ? 'failed'
    : inconclusive.length
      ? 'inconclusive'
      : 'successful';
  const deciding = failed.length ? failed : inconclusive.length ? inconclusive : metrics;
  return {
    phase,
    metrics,
    candidateSamples: candidate.samples,
    baselineSamples: baseline.samples,
    reason: deciding.map((m) => m.reason).join('; '),
  };
}

export type AnalysisPhase = 'running' | MeasurementPhase;

/**
 * The analysis run after each measurement: failed once failures exceed the limit,
 * inconclusive once inconclusive measurements exceed theirs, successful once it has `count`
 * measurements of which at least one succeeded. Measurements that only said "not enough
 * traffic" never add up to a success: no evidence is not evidence of safety.
 */
export function analysisPhase(
  phases: readonly MeasurementPhase[],
  template: Pick<AnalysisTemplate, 'count' | 'failureLimit' | 'inconclusiveLimit'>,
): { phase: AnalysisPhase; failed: number; inconclusive: number; successful: number } {
  const failed = phases.filter((p) => p === 'failed').length;
  const inconclusive = phases.filter((p) => p === 'inconclusive').length;
  const successful = phases.length - failed - inconclusive;
  const phase: AnalysisPhase =
    failed > template.failureLimit
      ? 'failed'
      : inconclusive > template.inconclusiveLimit
        ? 'inconclusive'
        : phases.length >= template.count && successful > 0
          ? 'successful'
          : 'running';
  return { phase, failed, inconclusive, successful };
}

/** Replay and shadow: the candidate's pass rate on the same inputs versus the recorded answers'. */
export function compareOnSameInputs(
  results: readonly { candidatePass: boolean; baselinePass: boolean }[],
  config: { maxPassRateDrop: number; minTraces: number },
): {
  phase: MeasurementPhase;
  candidatePassRate: number | null;
  baselinePassRate: number | null;
  reason: string;
} {
  const n = results.length;
  if (n < config.minTraces) {
    return {
      phase: 'inconclusive',
      candidatePassRate: null,
      baselinePassRate: null,
      reason: `only ${n} traces to compare on (need ${config.minTraces})`,
    };
  }
  const c = results.filter((r) => r.candidatePass).length / n;
  const b = results.filter((r) => r.baselinePass).length / n;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const shown = `candidate passes ${pct(c)} of ${n} inputs, production ${pct(b)}`;
  return c < b - config.maxPassRateDrop - 1e-9
    ? {
        phase: 'failed',
        candidatePassRate: c,
        baselinePassRate: b,
        reason: `${shown}: drop over ${pct(config.maxPassRateDrop)}`,
      }
    : { phase: 'successful', candidatePassRate: c, baselinePassRate: b, reason: `${shown}` };
}
