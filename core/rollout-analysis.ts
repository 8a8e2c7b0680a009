import type { RolloutAnalysis } from '../schemas/cycle-input.js';

export interface VariantMetrics {
  samples: number;
  failures: number;
}

export type AnalysisVerdict = 'successful' | 'failed' | 'inconclusive';

export interface AnalysisResult {
  verdict: AnalysisVerdict;
  candidateFailureRate: number | null;
  baselineFailureRate: number | null;
  reason: string;
}

const rate = (m: VariantMetrics) => (m.samples === 0 ? null : m.failures / m.samples);

/**
 * Candidate versus baseline failure rate on live traffic since the step began. A baseline
 * with no traffic (100% weight) is compared against the rate it had before the rollout.
 */
export function analyseStep(
  candidate: VariantMetrics,
  baseline: VariantMetrics,
  config: Pick<RolloutAnalysis, 'minSamples' | 'maxFailureRateIncrease'>,
): AnalysisResult {
  const c = rate(candidate);
  const b = rate(baseline);
  if (
    candidate.samples < config.minSamples ||
    baseline.samples < config.minSamples ||
    c === null ||
    b === null
  ) {
    return {
      verdict: 'inconclusive',
      candidateFailureRate: c,
      baselineFailureRate: b,
      reason: `not enough traffic: candidate ${candidate.samples}, baseline ${baseline.samples} traces (need ${config.minSamples} each)`,
    };
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  if (c > b + config.maxFailureRateIncrease) {
    return {
      verdict: 'failed',
      candidateFailureRate: c,
      baselineFailureRate: b,
      reason: `candidate failure rate ${pct(c)} exceeds baseline ${pct(b)} by more than ${pct(config.maxFailureRateIncrease)}`,
    };
  }
  return {
    verdict: 'successful',
    candidateFailureRate: c,
    baselineFailureRate: b,
    reason: `candidate failure rate ${pct(c)} within ${pct(config.maxFailureRateIncrease)} of baseline ${pct(b)}`,
  };
}
