import { evaluateCondition, parseCondition, usesBaseline } from '../schemas/analysis-condition.js';
import type { AnalysisMetric, AnalysisTemplate, RolloutMetricName } from '../schemas/rollout-config.js';

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

export interface MetricMeasurement {
  name: RolloutMetricName;
  candidate: number | null;
  baseline: number | null;
  phase: MeasurementPhase;
  reason: string;
}

export interface Measurement {
  phase: MeasurementPhase;
  metrics: MetricMeasurement[];
  candidateSamples: number;
  baselineSamples: number;
  reason: string;
}

const fmt = (x: number | null) => (x === null ? 'n/a' : Number.isInteger(x) ? String(x) : x.toFixed(3));

/**
 * One metric, Argo semantics: the failure condition met → failed; else the success
 * condition met → successful; a success condition unmet → failed when there is no failure
 * condition, inconclusive when both are defined (neither region reached). Too little
 * traffic, or a value that could not be measured, is inconclusive: no evidence is not
 * evidence of safety.
 */
export function measureMetric(
  metric: AnalysisMetric,
  candidate: VariantMetrics,
  baseline: VariantMetrics,
  minSamples: number,
): MetricMeasurement {
  const c = candidate.values[metric.name] ?? null;
  const b = baseline.values[metric.name] ?? null;
  const conditions = [metric.successCondition, metric.failureCondition].filter((x) => x !== undefined);
  const needsBaseline = conditions.some((t) => usesBaseline(parseCondition(t)));
  const count = (v: VariantMetrics) => (metric.name === 'judge_pass_rate' ? v.judged : v.samples);
  const base = { name: metric.name, candidate: c, baseline: b };
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

/** A measurement fails when any metric failed, is inconclusive when any was, else succeeds. */
export function measure(
  template: Pick<AnalysisTemplate, 'metrics' | 'minSamples'>,
  candidate: VariantMetrics,
  baseline: VariantMetrics,
): Measurement {
  const metrics = template.metrics.map((m) => measureMetric(m, candidate, baseline, template.minSamples));
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
