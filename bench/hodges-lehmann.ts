/**
 * The size of a paired difference a − b: the Hodges–Lehmann estimate (median of the Walsh
 * averages of the differences) and the distribution-free confidence interval that inverts
 * the Wilcoxon signed-rank test (normal approximation of its critical rank, which matches
 * the exact tables from about 10 pairs on). A p-value alone says how sure, not how much.
 */
export function hodgesLehmann(
  a: readonly number[],
  b: readonly number[],
  confidence = 0.95,
): { estimate: number; low: number; high: number } {
  if (a.length !== b.length) throw new Error('hodgesLehmann needs paired samples of equal length');
  const d = a.map((x, i) => x - b[i]!);
  const n = d.length;
  if (n === 0) return { estimate: NaN, low: NaN, high: NaN };
  const walsh: number[] = [];
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) walsh.push((d[i]! + d[j]!) / 2);
  walsh.sort((x, y) => x - y);
  const m = walsh.length;
  const mid = (m - 1) / 2;
  const estimate = (walsh[Math.floor(mid)]! + walsh[Math.ceil(mid)]!) / 2;
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const mu = (n * (n + 1)) / 4;
  const sigma = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24);
  // k Walsh averages are cut from each end; with too few pairs the interval is the whole range.
  const k = Math.max(0, Math.min(Math.floor(mu - z * sigma), Math.floor((m - 1) / 2)));
  return { estimate, low: walsh[k]!, high: walsh[m - 1 - k]! };
}

/** Standard normal quantile by bisection on the error function's series: plenty for a CI. */
function normalQuantile(p: number): number {
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function normalCdf(x: number): number {
  // erf by its Taylor series, accurate to ~1e-12 for |x| ≤ 10 / √2 with enough terms.
  const t = x / Math.SQRT2;
  if (Math.abs(t) > 6) return t > 0 ? 1 : 0;
  let sum = t;
  let term = t;
  for (let k = 1; k < 200; k++) {
    term *= (-t * t) / k;
    sum += term / (2 * k + 1);
  }
  return 0.5 * (1 + (2 / Math.sqrt(Math.PI)) * sum);
}
