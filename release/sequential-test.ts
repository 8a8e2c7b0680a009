import { ndtriExp } from '../optimizers/truncated-normal.js';

/**
 * An always-valid sequential test for rates (shares of traces: success, negative feedback,
 * escalation, error, judge pass), safe to look at after every measurement.
 *
 * The statistic is the normal-mixture likelihood ratio of the mSPRT (Johari, Pekelis & Walsh,
 * "Always valid inference", 2017; Optimizely's Stats Engine) on a contrast of two rates
 * θ = p_candidate − k·p_baseline, estimated by θ̂ with standard error s:
 *
 *     Λ(θ₀) = √(s² / (s² + τ²)) · exp( τ²(θ̂ − θ₀)² / (2 s² (s² + τ²)) )
 *
 * (the N(θ₀, τ²) mixture over alternatives of the normal likelihood ratio). Λ is a
 * nonnegative martingale under θ = θ₀, so by Ville's inequality P(∃ look: Λ ≥ 1/α) ≤ α,
 * however many looks are taken and whenever the looker stops. Inverting it gives the
 * confidence sequence {θ₀ : Λ(θ₀) < 1/α} = θ̂ ± w with
 *
 *     w = √( s²(s² + τ²)/τ² · (ln((s² + τ²)/s²) + 2 ln(1/α)) )
 *
 * which covers θ at every look at once with probability ≥ 1 − α (Robbins' normal mixture;
 * Howard et al. 2021; with estimated variances it is the asymptotic confidence sequence of
 * Waudby-Smith et al. 2023 that Eppo uses). The mixing scale τ is the minimum detectable
 * effect: the test is tuned to differences of the size the step is meant to resolve.
 */

export interface RateCounts {
  /** Traces that have the property (succeeded, got negative feedback, …). */
  successes: number;
  trials: number;
}

export interface SequentialSettings {
  /** Chance that the confidence sequence ever misses the true contrast, over all looks. */
  alpha: number;
  /** Power of the minimum sample: see standardErrorForPower. */
  power: number;
  /** The difference the step is sized to resolve; also the mixture's scale τ. */
  minimumDetectableEffect: number;
}

/** Φ⁻¹(p), the standard normal quantile. */
export const normalQuantile = (p: number): number => ndtriExp(Math.log(p));

/** Half-width w of the normal-mixture confidence sequence at standard error s. */
export function mixtureHalfWidth(standardError: number, alpha: number, mixingScale: number): number {
  const s2 = standardError * standardError;
  const t2 = mixingScale * mixingScale;
  if (s2 === 0) return 0;
  return Math.sqrt(((s2 * (s2 + t2)) / t2) * (Math.log((s2 + t2) / s2) + 2 * Math.log(1 / alpha)));
}

/** The mSPRT statistic Λ(θ₀); the test rejects θ₀ at level α once Λ ≥ 1/α. */
export function mixtureLikelihoodRatio(
  estimate: number,
  standardError: number,
  nullValue: number,
  mixingScale: number,
): number {
  const s2 = standardError * standardError;
  const t2 = mixingScale * mixingScale;
  const d = estimate - nullValue;
  return Math.sqrt(s2 / (s2 + t2)) * Math.exp((t2 * d * d) / (2 * s2 * (s2 + t2)));
}

/**
 * The variance of one trace's 0/1 outcome, from the rate shrunk by half a success and half a
 * failure (Jeffreys): 0 of 30 must not claim a variance of zero, which would make the
 * interval a point and any difference "certain".
 */
export function bernoulliVariance(c: RateCounts): number {
  const p = (c.successes + 0.5) / (c.trials + 1);
  return p * (1 - p);
}

export interface ContrastSequence {
  /** θ̂ = p̂_candidate − scale·p̂_baseline. */
  estimate: number;
  standardError: number;
  low: number;
  high: number;
}

/**
 * The confidence sequence for p_candidate − scale·p_baseline (scale 0: the candidate's rate
 * alone, compared with a constant). Counts are the cumulative traffic since the step began.
 */
export function rateContrastSequence(
  candidate: RateCounts,
  baseline: RateCounts | null,
  scale: number,
  settings: Pick<SequentialSettings, 'alpha' | 'minimumDetectableEffect'>,
): ContrastSequence {
  if (candidate.trials === 0 || (scale !== 0 && (baseline === null || baseline.trials === 0)))
    return { estimate: NaN, standardError: Infinity, low: -Infinity, high: Infinity };
  const pc = candidate.successes / candidate.trials;
  let estimate = pc;
  let variance = bernoulliVariance(candidate) / candidate.trials;
  if (scale !== 0 && baseline) {
    estimate -= scale * (baseline.successes / baseline.trials);
    variance += (scale * scale * bernoulliVariance(baseline)) / baseline.trials;
  }
  const standardError = Math.sqrt(variance);
  const w = mixtureHalfWidth(standardError, settings.alpha, settings.minimumDetectableEffect);
  return { estimate, standardError, low: estimate - w, high: estimate + w };
}

/**
 * The standard error s* at which a fixed-sample test at level alpha (two-sided) detects a true
 * difference of `minimumDetectableEffect` with probability `power`:
 * s* = MDE / (z_{1−α/2} + z_power), the textbook sample-size formula. Below that sample no
 * test could decide at the minimum detectable effect, so the step does not promote before it;
 * beyond it the sequential test (wider than a fixed-sample test, the price of looking at
 * will) goes on until its interval settles.
 */
export function standardErrorForPower(settings: SequentialSettings): number {
  const { alpha, power, minimumDetectableEffect: mde } = settings;
  return mde / (normalQuantile(1 - alpha / 2) + normalQuantile(power));
}

export interface PowerCheck {
  /** The traffic so far reaches the minimum sample for the MDE at the configured power. */
  ready: boolean;
  /** Candidate traces needed for that, at the current candidate:baseline split. */
  candidateTracesNeeded: number;
}

/**
 * Minimum samples from power, for the contrast result − scale·baseline. Planned on the pooled
 * rate (the rates assumed equal), so the answer does not swing with the candidate's noisy
 * early estimate.
 */
export function powerCheck(
  candidate: RateCounts,
  baseline: RateCounts | null,
  scale: number,
  settings: SequentialSettings,
): PowerCheck {
  const paired = scale !== 0 && baseline !== null;
  const variance = bernoulliVariance(
    paired
      ? {
          successes: candidate.successes + baseline.successes,
          trials: candidate.trials + baseline.trials,
        }
      : candidate,
  );
  // Baseline traces per candidate trace; an even split before there is any traffic.
  const ratio =
    paired && candidate.trials > 0 && baseline.trials > 0 ? baseline.trials / candidate.trials : 1;
  const target = standardErrorForPower(settings);
  const candidateTracesNeeded = Math.ceil(
    (variance * (1 + (paired ? (scale * scale) / ratio : 0))) / (target * target),
  );
  const planned =
    candidate.trials === 0
      ? Infinity
      : variance / candidate.trials + (paired ? (scale * scale * variance) / baseline.trials : 0);
  return { ready: planned <= target * target * (1 + 1e-12), candidateTracesNeeded };
}
