import type { SearchSpace } from '../optimizers/search-space.js';
import { nextFloat, seedPrng } from '../optimizers/prng.js';

/**
 * The blackbox functions of bench:tpe (SigOpt evalset definitions, all minimised) and a
 * categorical (instruction × demo set) table shaped like MIPRO's search: additive effects,
 * an interaction term and observation noise. The Python side (bench/python/optuna_tpe.py)
 * implements the same formulas; the table itself is passed to it, so both see one table.
 */
export interface TestFunction {
  name: string;
  space: SearchSpace;
  /** The true (noiseless) objective. */
  f: (x: Record<string, number | string | boolean>) => number;
  optimum: number;
}

const floats = (n: number, low: number, high: number): SearchSpace =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`x${i}`, { type: 'float', low, high }]));
const vec = (x: Record<string, unknown>, n: number) =>
  Array.from({ length: n }, (_, i) => Number(x[`x${i}`]));

const H_ALPHA = [1, 1.2, 3, 3.2];
const H_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((r) => r.map((v) => v * 1e-4));

export const CONTINUOUS_FUNCTIONS: TestFunction[] = [
  {
    name: 'branin',
    space: { x0: { type: 'float', low: -5, high: 10 }, x1: { type: 'float', low: 0, high: 15 } },
    f: (p) => {
      const [a, b] = vec(p, 2) as [number, number];
      const t = b - (5.1 / (4 * Math.PI ** 2)) * a * a + (5 / Math.PI) * a - 6;
      return t * t + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(a) + 10;
    },
    optimum: 0.397887,
  },
  {
    name: 'hartmann6',
    space: floats(6, 0, 1),
    f: (p) => {
      const x = vec(p, 6);
      return -H_ALPHA.reduce(
        (s, alpha, i) =>
          s + alpha * Math.exp(-x.reduce((e, xj, j) => e + H_A[i]![j]! * (xj - H_P[i]![j]!) ** 2, 0)),
        0,
      );
    },
    optimum: -3.32237,
  },
  {
    name: 'rosenbrock4',
    space: floats(4, -5, 10),
    f: (p) => {
      const x = vec(p, 4);
      let s = 0;
      for (let i = 0; i < 3; i++) s += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
      return s;
    },
    optimum: 0,
  },
  {
    name: 'styblinskiTang5',
    space: floats(5, -5, 5),
    f: (p) => 0.5 * vec(p, 5).reduce((s, x) => s + x ** 4 - 16 * x * x + 5 * x, 0),
    optimum: -39.16617 * 5,
  },
  {
    name: 'ackley5',
    space: floats(5, -32.768, 32.768),
    f: (p) => {
      const x = vec(p, 5);
      const sq = x.reduce((s, v) => s + v * v, 0) / x.length;
      const cs = x.reduce((s, v) => s + Math.cos(2 * Math.PI * v), 0) / x.length;
      return -20 * Math.exp(-0.2 * Math.sqrt(sq)) - Math.exp(cs) + 20 + Math.E;
    },
    optimum: 0,
  },
];

function gaussian(prng: ReturnType<typeof seedPrng>): number {
  const u = Math.max(nextFloat(prng), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * nextFloat(prng));
}

export interface CategoricalTable {
  values: number[][];
  noiseSd: number;
  /** Per seed, the noise added to trial t's observation. */
  noise: Record<string, number[]>;
}

/**
 * A loss table over (instruction, demo set): instruction and demo effects, a sparse strong
 * interaction (a few pairs work much better together), and Gaussian observation noise of
 * about a 35-example minibatch's standard error.
 */
export function categoricalTable(
  instructions: number,
  demoSets: number,
  seeds: number[],
  trials: number,
): CategoricalTable {
  const prng = seedPrng(20240611);
  const a = Array.from({ length: instructions }, () => gaussian(prng) * 0.08);
  const b = Array.from({ length: demoSets }, () => gaussian(prng) * 0.05);
  const values = a.map((ai) =>
    b.map((bj) => 0.5 - ai - bj - (nextFloat(prng) < 0.08 ? 0.15 : 0) + gaussian(prng) * 0.02),
  );
  const noiseSd = 0.085;
  const noise = Object.fromEntries(
    seeds.map((s) => {
      const p = seedPrng(7919 * (s + 1));
      return [String(s), Array.from({ length: trials }, () => gaussian(p) * noiseSd)];
    }),
  );
  return { values, noiseSd, noise };
}

export function tableFunction(table: CategoricalTable): TestFunction {
  const rows = table.values.length;
  const cols = table.values[0]!.length;
  return {
    name: 'instructionDemo',
    space: {
      instruction: { type: 'categorical', choices: Array.from({ length: rows }, (_, i) => i) },
      demos: { type: 'categorical', choices: Array.from({ length: cols }, (_, i) => i) },
    },
    f: (p) => table.values[Number(p.instruction)]![Number(p.demos)]!,
    optimum: Math.min(...table.values.flat()),
  };
}
