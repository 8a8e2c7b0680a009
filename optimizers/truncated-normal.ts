/**
 * Normal and truncated-normal numerics for the Parzen estimators: log Φ, Φ⁻¹, interval
 * masses, log-densities and the inverse CDF, accurate far into the tails (TPE kernels are
 * often narrow, so candidates sit many σ from most kernels and naive `log(Φ(b) − Φ(a))`
 * would return −∞). The case splits follow Optuna's `_truncnorm` so golden values agree.
 */

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);
const SQRT2 = Math.SQRT2;

/** erf by the all-positive-terms series erf(x) = 2/√π·e^{−x²}·Σ 2ⁿx^{2n+1}/(2n+1)!!, for 0 ≤ x < 2. */
function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  const x2 = x * x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
}

/**
 * The continued fraction K(x) with erfc(x) = e^{−x²}/(√π·K(x)) for x ≥ 2, evaluated by
 * modified Lentz. Returned unexponentiated so log-space callers never underflow.
 */
function erfcFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = f;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return f;
}

/** log erfc(x) for x ≥ 0. */
function logErfcPositive(x: number): number {
  if (x < 2) return Math.log1p(-erfSeries(x));
  return -x * x - LOG_SQRT_PI - Math.log(erfcFraction(x));
}

/** Standard normal CDF Φ(x). */
export function ndtr(x: number): number {
  const z = x / SQRT2;
  if (z >= 0) return 1 - 0.5 * Math.exp(logErfcPositive(z));
  return 0.5 * Math.exp(logErfcPositive(-z));
}

/** log Φ(x), finite for every finite x. */
export function logNdtr(x: number): number {
  if (x > 6) return Math.log1p(-ndtr(-x));
  const z = x / SQRT2;
  if (z >= 0) return Math.log1p(-0.5 * Math.exp(logErfcPositive(z)));
  return Math.log(0.5) + logErfcPositive(-z);
}

export function normLogPdf(x: number): number {
  return -0.5 * x * x - LOG_SQRT_2PI;
}

/** log(p − q) from log p and log q, p > q. */
function logDiff(logP: number, logQ: number): number {
  return logP + Math.log1p(-Math.exp(logQ - logP));
}

/** log(p + q) from log p and log q. */
function logSum(logP: number, logQ: number): number {
  const m = Math.max(logP, logQ);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(Math.exp(logP - m) + Math.exp(logQ - m));
}

/** log of the standard normal mass on [a, b], stable in both tails. */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a));
  if (a > 0) return logDiff(logNdtr(-a), logNdtr(-b));
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

// Acklam's rational approximation of Φ⁻¹, refined below by Newton steps on log Φ.
const A = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
  2.506628277459239,
];
const B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const C = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];

function acklam(p: number): number {
  const [a0, a1, a2, a3, a4, a5] = A as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = B as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = C as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = D as [number, number, number, number];
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
    );
  }
  if (p > 1 - 0.02425) return -acklam(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
    (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1)
  );
}

/** Solves log Φ(x) = y for y ≤ log(1 − 1e−2)-ish, where x is not far in the upper tail. */
function solveLogNdtr(y: number): number {
  let x: number;
  if (y > -700) {
    x = acklam(Math.exp(y));
  } else {
    // Asymptotic log Φ(x) ≈ −x²/2 − log(−x) − log√(2π): iterate the fixed point once.
    const t = Math.sqrt(-2 * y - 2 * LOG_SQRT_2PI);
    x = -Math.sqrt(-2 * y - 2 * LOG_SQRT_2PI - 2 * Math.log(t));
  }
  for (let i = 0; i < 50; i++) {
    const l = logNdtr(x);
    const step = (l - y) * Math.exp(l - normLogPdf(x));
    x -= step;
    if (Math.abs(step) <= 1e-15 * Math.max(1, Math.abs(x))) break;
  }
  return x;
}

/** Φ⁻¹(exp(y)): the x with log Φ(x) = y, for y < 0. */
export function ndtriExp(y: number): number {
  if (y === 0) return Infinity;
  if (y === -Infinity) return -Infinity;
  // Near y = 0 the answer is in the upper tail: solve for the mirrored lower tail instead.
  if (y > -1e-2) return -solveLogNdtr(Math.log(-Math.expm1(y)));
  return solveLogNdtr(y);
}

/** log-density of the normal(loc, scale) truncated to [a, b] (a, b standardized), at x. */
export function truncnormLogPdf(x: number, a: number, b: number, loc: number, scale: number): number {
  const z = (x - loc) / scale;
  if (a === b) return NaN;
  if (z < a || z > b) return -Infinity;
  return normLogPdf(z) - logGaussMass(a, b) - Math.log(scale);
}

/** Inverse CDF of the standard normal truncated to [a, b], at quantile q. */
export function truncnormPpf(q: number, a: number, b: number): number {
  if (a === b) return NaN;
  if (q === 0) return a;
  if (q === 1) return b;
  if (a < 0) {
    const logPhiX = logSum(logNdtr(a), Math.log(q) + logGaussMass(a, b));
    return clampTo(ndtriExp(logPhiX), a, b);
  }
  const logPhiX = logSum(logNdtr(-b), Math.log1p(-q) + logGaussMass(a, b));
  return clampTo(-ndtriExp(logPhiX), a, b);
}

// Rounding in the last digit must not place a sample outside its support.
const clampTo = (x: number, a: number, b: number) => Math.min(b, Math.max(a, x));

/** log Σ exp(values), stable. */
export function logSumExp(values: readonly number[]): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const v of values) s += Math.exp(v - m);
  return m + Math.log(s);
}
