import { nextFloat, type PrngState } from './prng.js';
import { stepOf, snapToGrid, type SearchSpace } from './search-space.js';
import { logGaussMass, logSumExp, truncnormLogPdf, truncnormPpf } from './truncated-normal.js';

/**
 * Optuna's Parzen estimator: a weighted mixture of product kernels, one per observation
 * plus one prior kernel. Numeric dimensions are truncated normals (interval masses on a
 * step grid; log parameters live in log space), categorical dimensions are smoothed
 * one-hot rows. Observations come in internal representation (choice index for
 * categoricals), in the original parameter space.
 */
export interface ParzenParameters {
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  multivariate: boolean;
}

export type KernelDimension =
  | { kind: 'numeric'; mu: number[]; sigma: number[]; low: number; high: number; step: number | null }
  | { kind: 'categorical'; weights: number[][] };

export interface ParzenEstimator {
  params: string[];
  log: boolean[];
  /** Integer parameters round onto their grid after sampling (log-int is sampled continuously). */
  intGrid: ({ low: number; high: number; step: number } | null)[];
  weights: number[];
  dims: KernelDimension[];
}

/** Optuna's default_gamma: the number of "good" trials among n finished ones. */
export const defaultGamma = (n: number) => Math.min(Math.ceil(0.1 * n), 25);

/** Hyperopt's gamma, for the hyperopt preset. */
export const hyperoptGamma = (n: number) => Math.min(Math.ceil(0.25 * Math.sqrt(n)), 25);

/** Optuna's default_weights: flat for the newest 25, a linear ramp from 1/n for older ones. */
export function defaultWeights(n: number): number[] {
  if (n === 0) return [];
  if (n < 25) return new Array<number>(n).fill(1);
  const rampCount = n - 25;
  const ramp: number[] = [];
  for (let i = 0; i < rampCount; i++) {
    ramp.push(rampCount === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (rampCount - 1));
  }
  return [...ramp, ...new Array<number>(25).fill(1)];
}

export function buildParzenEstimator(
  observations: Record<string, readonly number[]>,
  space: SearchSpace,
  parameters: ParzenParameters,
  observationWeights?: readonly number[],
): ParzenEstimator {
  const params = Object.keys(space);
  const n = params.length ? (observations[params[0]!]?.length ?? 0) : 0;
  let weights = observationWeights ? [...observationWeights] : defaultWeights(n);
  weights = n === 0 ? [1] : [...weights, parameters.priorWeight];
  const total = weights.reduce((s, w) => s + w, 0);
  weights = weights.map((w) => w / total);
  const log: boolean[] = [];
  const intGrid: ParzenEstimator['intGrid'] = [];
  const dims = params.map((name): KernelDimension => {
    const d = space[name]!;
    const obs = observations[name] ?? [];
    if (d.type === 'categorical') {
      log.push(false);
      intGrid.push(null);
      return categoricalDimension(obs, d.choices.length, parameters);
    }
    const isLog = d.log === true;
    log.push(isLog);
    let step = stepOf(d);
    intGrid.push(d.type === 'int' ? { low: d.low, high: d.high, step: step ?? 1 } : null);
    let low = isLog ? Math.log(d.low) : d.low;
    let high = isLog ? Math.log(d.high) : d.high;
    // A log-scaled grid is modelled as a continuous density over the widened log range.
    if (step !== null && isLog) {
      low = Math.log(d.low - step / 2);
      high = Math.log(d.high + step / 2);
      step = null;
    }
    const mus = isLog ? obs.map(Math.log) : [...obs];
    return numericDimension(mus, low, high, step, params.length, parameters);
  });
  return { params, log, intGrid, weights, dims };
}

function categoricalDimension(obs: readonly number[], nChoices: number, p: ParzenParameters): KernelDimension {
  if (obs.length === 0) return { kind: 'categorical', weights: [new Array<number>(nChoices).fill(1 / nChoices)] };
  const nKernels = obs.length + 1;
  const rows = [...obs, -1].map((observed) => {
    const row = new Array<number>(nChoices).fill(p.priorWeight / nKernels);
    if (observed >= 0) row[observed]! += 1;
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => v / s);
  });
  return { kind: 'categorical', weights: rows };
}

function numericDimension(
  mus: number[],
  low: number,
  high: number,
  step: number | null,
  nParams: number,
  p: ParzenParameters,
): KernelDimension {
  const s = step ?? 0;
  const range = high - low + s;
  const priorMu = 0.5 * (low + high);
  let sigmas: number[];
  if (p.multivariate) {
    const sigma = 0.2 * Math.max(mus.length, 1) ** (-1 / (nParams + 4)) * range;
    sigmas = mus.map(() => sigma);
  } else {
    // Optuna sorts the observations together with the prior mean; each kernel's bandwidth
    // is its larger gap to a neighbour, with the (step-widened) bounds as outer neighbours.
    const withPrior = [...mus, priorMu];
    const order = withPrior.map((_, i) => i).sort((a, b) => withPrior[a]! - withPrior[b]! || a - b);
    const sorted = [low - s / 2, ...order.map((i) => withPrior[i]!), high + s / 2];
    const sortedSigmas = order.map((_, k) => Math.max(sorted[k + 1]! - sorted[k]!, sorted[k + 2]! - sorted[k + 1]!));
    if (!p.considerEndpoints && sorted.length >= 4) {
      sortedSigmas[0] = sorted[2]! - sorted[1]!;
      sortedSigmas[sortedSigmas.length - 1] = sorted[sorted.length - 2]! - sorted[sorted.length - 3]!;
    }
    const byIndex = new Array<number>(withPrior.length);
    order.forEach((originalIndex, k) => (byIndex[originalIndex] = sortedSigmas[k]!));
    sigmas = byIndex.slice(0, mus.length);
  }
  const maxSigma = range;
  const minSigma = p.considerMagicClip ? range / Math.min(100, 1 + (mus.length + 1)) : 1e-12;
  sigmas = sigmas.map((x) => Math.min(maxSigma, Math.max(minSigma, x)));
  return { kind: 'numeric', mu: [...mus, priorMu], sigma: [...sigmas, range], low, high, step };
}

/** Draws `count` points (internal values, original space) from the mixture. */
export function sampleParzen(est: ParzenEstimator, prng: PrngState, count: number): number[][] {
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of est.weights) cumulative.push((acc += w));
  const active: number[] = [];
  for (let i = 0; i < count; i++) {
    const u = nextFloat(prng) * acc;
    let k = cumulative.findIndex((c) => u < c);
    if (k < 0) k = cumulative.length - 1;
    active.push(k);
  }
  const points = active.map(() => new Array<number>(est.params.length));
  est.dims.forEach((dim, j) => {
    for (let i = 0; i < count; i++) {
      const k = active[i]!;
      let x: number;
      if (dim.kind === 'categorical') {
        const row = dim.weights[Math.min(k, dim.weights.length - 1)]!;
        const u = nextFloat(prng);
        let c = 0;
        x = 0;
        for (const w of row) if ((c += w) < u) x++;
        x = Math.min(x, row.length - 1);
      } else {
        const mu = dim.mu[k]!;
        const sigma = dim.sigma[k]!;
        const half = dim.step === null ? 0 : dim.step / 2;
        const q = nextFloat(prng);
        x = truncnormPpf(q, (dim.low - half - mu) / sigma, (dim.high + half - mu) / sigma) * sigma + mu;
        if (dim.step !== null) x = snapToGrid(x, dim.low, dim.high, dim.step);
      }
      if (est.log[j]) x = Math.exp(x);
      const grid = est.intGrid[j];
      if (grid) x = snapToGrid(x, grid.low, grid.high, grid.step);
      points[i]![j] = x;
    }
  });
  return points;
}

/** log density of the mixture at each point (internal values, original space). */
export function parzenLogPdf(est: ParzenEstimator, points: readonly (readonly number[])[]): number[] {
  return points.map((point) => {
    const perKernel = est.weights.map((w, k) => {
      let lp = Math.log(w);
      est.dims.forEach((dim, j) => {
        let x = point[j]!;
        if (est.log[j]) x = Math.log(x);
        if (dim.kind === 'categorical') {
          lp += Math.log(dim.weights[Math.min(k, dim.weights.length - 1)]![x]!);
        } else {
          const mu = dim.mu[k]!;
          const sigma = dim.sigma[k]!;
          if (dim.step === null) {
            lp += truncnormLogPdf(x, (dim.low - mu) / sigma, (dim.high - mu) / sigma, mu, sigma);
          } else {
            const lower = dim.low - dim.step / 2;
            const upper = dim.high + dim.step / 2;
            const xl = Math.max(x - dim.step / 2, lower);
            const xu = Math.min(x + dim.step / 2, upper);
            lp +=
              logGaussMass((xl - mu) / sigma, (xu - mu) / sigma) -
              logGaussMass((lower - mu) / sigma, (upper - mu) / sigma);
          }
        }
      });
      return lp;
    });
    return logSumExp(perKernel);
  });
}
