import { normalQuantile } from './sequential-test.js';

/** Power the gate reports its minimum detectable effect at: the usual 80 %. */
export const GATE_POWER = 0.8;

/**
 * The smallest true gain a paired comparison on these examples would detect at the gate's
 * confidence with 80 % power: (z_{1−α/2} + z_power) · √(2·σ²/n), σ² the production side's
 * variance. It is computed before the candidate is looked at, so it says what the eval
 * split can tell apart, not what this candidate did: a gate reading "no gain" on an eval
 * whose MDE is 0.3 has learned little. When production scored every example the same
 * (σ² = 0, e.g. an eval of failures only), the variance of a 0/1 score at the smoothed
 * mean stands in, so a degenerate split does not claim it can see everything.
 */
export function minimumDetectableEffect(baseline: readonly number[], confidence: number): number | null {
  const n = baseline.length;
  if (n === 0) return null;
  const mean = baseline.reduce((s, x) => s + x, 0) / n;
  let variance = n > 1 ? baseline.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) : 0;
  if (variance === 0) {
    const smoothed = (mean * n + 0.5) / (n + 1);
    variance = smoothed * (1 - smoothed);
  }
  const z = normalQuantile(1 - (1 - confidence) / 2) + normalQuantile(GATE_POWER);
  // A score in [0, 1] cannot move by more than 1: 1 reads "no effect is detectable here".
  return Math.min(1, z * Math.sqrt((2 * variance) / n));
}
