import { nextInt, seedPrng } from '../optimizers/prng.js';

export interface BootstrapOptions {
  resamples: number;
  /** Two-sided coverage of the interval, e.g. 0.95. */
  confidence: number;
  seed: number;
}

export interface MeanInterval {
  /** Mean of the observed deltas. */
  mean: number;
  /** Percentile interval of the resampled means: [lower, upper]. */
  ci: [number, number];
  n: number;
}

/**
 * Paired bootstrap of a mean difference: `deltas` holds candidate − baseline per example
 * (the same examples scored by both), so example difficulty cancels out and the interval
 * reflects only how consistently the candidate differs. Examples are resampled with
 * replacement from a seeded sfc32 stream; the same inputs and seed give the same interval.
 */
export function pairedBootstrap(deltas: readonly number[], options: BootstrapOptions): MeanInterval | null {
  const n = deltas.length;
  if (n === 0) return null;
  const mean = deltas.reduce((s, d) => s + d, 0) / n;
  const prng = seedPrng(options.seed);
  const means = new Float64Array(options.resamples);
  for (let b = 0; b < options.resamples; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += deltas[nextInt(prng, n)]!;
    means[b] = sum / n;
  }
  means.sort();
  const alpha = (1 - options.confidence) / 2;
  return { mean, ci: [quantileSorted(means, alpha), quantileSorted(means, 1 - alpha)], n };
}

/** Linear interpolation between order statistics (numpy's default), on sorted input. */
function quantileSorted(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
