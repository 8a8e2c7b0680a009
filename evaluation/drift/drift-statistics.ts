import { ndtr } from '../../optimizers/truncated-normal.js';

/**
 * The two-sample tests of the drift detector, each returning a one-number p-value that is
 * valid (or conservative) in the far tail the detector works in: with a false-alarm budget
 * split over every metric, slice and hourly check, a single test rejects only below ~1e-6,
 * where a normal approximation to a rare-event proportion is badly wrong (3 errors out of
 * 8000 traces, all 3 in the current eighth, is z ≈ 4.6 but an exact p of 0.002).
 *
 * - proportions (failures, thumbs-down, escalations, errors): Fisher's exact test, one-sided
 *   (the current window's share is larger), from the hypergeometric tail;
 * - latency and cost: the Mann-Whitney U test, one-sided (current values stochastically
 *   larger), midranks and the tie-corrected normal approximation;
 * - the input distribution: a chi-square test of homogeneity of the two windows' histograms
 *   over input prototypes (see input-prototypes.ts), bins with small expected counts pooled.
 */

const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = 0.99999999999980993;
  const t = z + 7.5;
  for (let i = 0; i < LANCZOS.length; i++) a += (LANCZOS[i] as number) / (z + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const logChoose = (n: number, k: number) => logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);

/**
 * P(X ≥ x) for X ~ Hypergeometric(population, successes, draws): the chance that `draws`
 * items taken without replacement from `population`, of which `successes` have the
 * property, include at least x of them.
 */
export function hypergeometricUpperTail(
  x: number,
  population: number,
  successes: number,
  draws: number,
): number {
  const low = Math.max(0, draws - (population - successes));
  const high = Math.min(draws, successes);
  if (x <= low) return 1;
  if (x > high) return 0;
  const logDenominator = logChoose(population, draws);
  let sum = 0;
  for (let k = x; k <= high; k++) {
    const term = Math.exp(
      logChoose(successes, k) + logChoose(population - successes, draws - k) - logDenominator,
    );
    sum += term;
    // The terms fall geometrically past the mode; stop once they no longer count.
    if (term < sum * 1e-17 && k > (draws * successes) / population) break;
  }
  return Math.min(1, sum);
}

export interface ProportionTest {
  referenceRate: number;
  currentRate: number;
  pValue: number;
}

/**
 * Fisher's exact test that the current window's rate is higher than the reference's,
 * conditional on the total count: under no change, which of the traces carry the property
 * is exchangeable between the windows.
 */
export function proportionIncreaseTest(
  reference: { count: number; trials: number },
  current: { count: number; trials: number },
): ProportionTest {
  const population = reference.trials + current.trials;
  const successes = reference.count + current.count;
  return {
    referenceRate: reference.trials ? reference.count / reference.trials : NaN,
    currentRate: current.trials ? current.count / current.trials : NaN,
    pValue: hypergeometricUpperTail(current.count, population, successes, current.trials),
  };
}

export interface RankTest {
  /** The standardised rank-sum statistic (positive: current values larger). */
  z: number;
  pValue: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The Mann-Whitney U test that current values are stochastically larger than the
 * reference's: midranks for ties, the tie-corrected variance and a continuity correction.
 */
export function rankIncreaseTest(reference: readonly number[], current: readonly number[]): RankTest {
  const n1 = reference.length;
  const n2 = current.length;
  if (n1 === 0 || n2 === 0) return { z: 0, pValue: 1 };
  const n = n1 + n2;
  const all = new Float64Array(n);
  all.set(reference);
  all.set(current, n1);
  all.sort();
  // Midrank of a value: the values below it, plus the middle of its run of ties.
  const firstIndex = (v: number) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((all[mid] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  let tieTerm = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && all[j + 1] === all[i]) j++;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  let rankSum = 0;
  for (const v of current) {
    const below = firstIndex(v);
    let end = below;
    while (end < n && all[end] === v) end++;
    rankSum += (below + end - 1) / 2 + 1;
  }
  const u = rankSum - (n2 * (n2 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { z: 0, pValue: 1 };
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return { z, pValue: ndtr(-z) };
}

/**
 * Q(a, x) = Γ(a, x) / Γ(a), the regularized upper incomplete gamma function (series below
 * a + 1, Lentz's continued fraction above; Numerical Recipes §6.2).
 */
export function regularizedGammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.exp(logPrefix) * h);
}

/** P(χ²_df ≥ statistic). */
export function chiSquareSurvival(statistic: number, degreesOfFreedom: number): number {
  return regularizedGammaQ(degreesOfFreedom / 2, statistic / 2);
}

export interface HistogramTest {
  statistic: number;
  degreesOfFreedom: number;
  pValue: number;
  /** The bin whose current share rose the most over the reference's (−1 when none was tested). */
  risingBin: number;
  /** Total variation distance between the two windows' histograms, a readable effect size. */
  totalVariation: number;
}

/**
 * The chi-square test of homogeneity of two histograms over the same bins. Bins whose
 * expected count falls below `minExpected` in either window are pooled into one, so the
 * χ² approximation holds; fewer than two bins left means nothing to test (p = 1).
 */
export function histogramShiftTest(
  reference: readonly number[],
  current: readonly number[],
  minExpected = 5,
): HistogramTest {
  const n1 = reference.reduce((s, v) => s + v, 0);
  const n2 = current.reduce((s, v) => s + v, 0);
  const none = { statistic: 0, degreesOfFreedom: 0, pValue: 1, risingBin: -1, totalVariation: 0 };
  if (n1 === 0 || n2 === 0) return none;
  const n = n1 + n2;
  let totalVariation = 0;
  let risingBin = -1;
  let rise = 0;
  const bins: [number, number][] = [];
  let pooled: [number, number] = [0, 0];
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] as number;
    const c = current[i] as number;
    const shift = c / n2 - r / n1;
    totalVariation += Math.abs(shift) / 2;
    if (shift > rise) [rise, risingBin] = [shift, i];
    const total = r + c;
    if ((total * Math.min(n1, n2)) / n < minExpected) pooled = [pooled[0] + r, pooled[1] + c];
    else bins.push([r, c]);
  }
  if (pooled[0] + pooled[1] > 0) bins.push(pooled);
  if (bins.length < 2) return { ...none, risingBin, totalVariation };
  let statistic = 0;
  for (const [r, c] of bins) {
    const total = r + c;
    const er = (total * n1) / n;
    const ec = (total * n2) / n;
    statistic += ((r - er) * (r - er)) / er + ((c - ec) * (c - ec)) / ec;
  }
  const degreesOfFreedom = bins.length - 1;
  return {
    statistic,
    degreesOfFreedom,
    pValue: chiSquareSurvival(statistic, degreesOfFreedom),
    risingBin,
    totalVariation,
  };
}
