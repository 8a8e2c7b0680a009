/** Summary statistics and the paired test the benchmarks report. */

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN;
}

export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Linear-interpolated quantile (numpy's default). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export const median = (xs: readonly number[]) => quantile(xs, 0.5);

function normalCdf(z: number): number {
  // Abramowitz–Stegun 7.1.26 is enough for a p-value.
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-(z * z) / 2);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/**
 * Wilcoxon signed-rank test on paired samples, one-sided: the p-value that `a` is not
 * smaller than `b` (H1: a < b). Zero differences are dropped (Wilcoxon's convention),
 * ties get average ranks, and the normal approximation has the tie correction.
 */
export function wilcoxonLess(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error('wilcoxon needs paired samples of equal length');
  const d = a.map((x, i) => x - b[i]!).filter((x) => x !== 0);
  const n = d.length;
  if (n === 0) return 1;
  const order = d.map((x, i) => ({ abs: Math.abs(x), i })).sort((p, q) => p.abs - q.abs);
  const ranks = new Array<number>(n);
  let tieTerm = 0;
  for (let k = 0; k < n;) {
    let j = k;
    while (j + 1 < n && order[j + 1]!.abs === order[k]!.abs) j++;
    const avg = (k + j) / 2 + 1;
    for (let m = k; m <= j; m++) ranks[order[m]!.i] = avg;
    const t = j - k + 1;
    tieTerm += t * t * t - t;
    k = j + 1;
  }
  const wPlus = d.reduce((s, x, i) => (x > 0 ? s + ranks[i]! : s), 0);
  const mu = (n * (n + 1)) / 4;
  const sigma = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48);
  if (sigma === 0) return 1;
  // Continuity correction toward the null.
  return normalCdf((wPlus - mu + 0.5) / sigma);
}

/** Two-sided version: is there any difference between the paired samples? */
export function wilcoxonTwoSided(a: readonly number[], b: readonly number[]): number {
  return Math.min(1, 2 * Math.min(wilcoxonLess(a, b), wilcoxonLess(b, a)));
}
