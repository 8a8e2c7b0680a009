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
  | {
      kind: 'numeric';
      /** Kernel space: log space for log parameters. */
      mu: number[];
      sigma: number[];
      /** Kernel-space support: the (step-widened, then logged) bounds. */
      kernelLow: number;
      kernelHigh: number;
      log: boolean;
      /** Original-space grid for stepped parameters (each value owns ±step/2). */
      grid: { low: number; high: number; step: number } | null;
    }
  | { kind: 'categorical'; weights: number[][] };

export interface ParzenEstimator {
  params: string[];
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
  const dims = params.map((name): KernelDimension => {
    const d = space[name]!;
    const obs = observations[name] ?? [];
    if (d.type === 'categorical') return categoricalDimension(obs, d.choices.length, parameters);
    const isLog = d.log === true;
    const step = stepOf(d);
    // Optuna widens a stepped range by half a step on each side first, then takes logs.
    const half = step === null ? 0 : step / 2;
    const transform = isLog ? Math.log : (x: number) => x;
    return numericDimension(
      obs.map(transform),
      transform(d.low - half),
      transform(d.high + half),
      isLog,
      step === null ? null : { low: d.low, high: d.high, step },
      params.length,
      parameters,
    );
  });
  return { params, weights, dims };
}

function categoricalDimension(
  obs: readonly number[],
  nChoices: number,
  p: ParzenParameters,
): KernelDimension {
  if (obs.length === 0)
    return { kind: 'categorical', weights: [new Array<number>(nChoices).fill(1 / nChoices)] };
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
  log: boolean,
  grid: { low: number; high: number; step: number } | null,
  nParams: number,
  p: ParzenParameters,
): KernelDimension {
  const range = high - low;
  let sigmas: number[];
  if (p.multivariate) {
    const sigma = 0.2 * Math.max(mus.length, 1) ** (-1 / (nParams + 4)) * range;
    sigmas = mus.map(() => sigma);
  } else {
    // Each kernel's bandwidth is its larger gap to a neighbour among the sorted
    // observations, with the support bounds as the outer neighbours.
    const order = mus.map((_, i) => i).sort((a, b) => mus[a]! - mus[b]! || a - b);
    const sorted = [low, ...order.map((i) => mus[i]!), high];
    const sortedSigmas = order.map((_, k) =>
      Math.max(sorted[k + 1]! - sorted[k]!, sorted[k + 2]! - sorted[k + 1]!),
    );
    if (!p.considerEndpoints && sorted.length >= 4) {
      sortedSigmas[0] = sorted[2]! - sorted[1]!;
      sortedSigmas[sortedSigmas.length - 1] = sorted[sorted.length - 2]! - sorted[sorted.length - 3]!;
    }
    sigmas = new Array<number>(mus.length);
    order.forEach((originalIndex, k) => (sigmas[originalIndex] = sortedSigmas[k]!));
  }
  // The "magic clip": no kernel narrower than range / min(100, n_kernels + 1).
  const minSigma = p.considerMagicClip ? range / Math.min(100, 1 + (mus.length + 1)) : 1e-12;
  sigmas = sigmas.map((x) => Math.min(range, Math.max(minSigma, x)));
  return {
    kind: 'numeric',
    mu: [...mus, 0.5 * (low + high)],
    sigma: [...sigmas, range],
    kernelLow: low,
    kernelHigh: high,
    log,
    grid,
  };
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
        const q = nextFloat(prng);
        x = truncnormPpf(q, (dim.kernelLow - mu) / sigma, (dim.kernelHigh - mu) / sigma) * sigma + mu;
        if (dim.log) x = Math.exp(x);
        if (dim.grid) x = snapToGrid(x, dim.grid.low, dim.grid.high, dim.grid.step);
      }
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
        const x = point[j]!;
        if (dim.kind === 'categorical') {
          lp += Math.log(dim.weights[Math.min(k, dim.weights.length - 1)]![x]!);
          return;
        }
        const mu = dim.mu[k]!;
        const sigma = dim.sigma[k]!;
        const z = (v: number) => ((dim.log ? Math.log(v) : v) - mu) / sigma;
        if (dim.grid === null) {
          lp += truncnormLogPdf(
            dim.log ? Math.log(x) : x,
            (dim.kernelLow - mu) / sigma,
            (dim.kernelHigh - mu) / sigma,
            mu,
            sigma,
          );
        } else {
          // A grid value owns the interval of ±step/2 around it, clipped to the support.
          const half = dim.grid.step / 2;
          const lower = dim.grid.low - half;
          const upper = dim.grid.high + half;
          lp +=
            logGaussMass(z(Math.max(x - half, lower)), z(Math.min(x + half, upper))) -
            logGaussMass((dim.kernelLow - mu) / sigma, (dim.kernelHigh - mu) / sigma);
        }
      });
      return lp;
    });
    return logSumExp(perKernel);
  });
}
