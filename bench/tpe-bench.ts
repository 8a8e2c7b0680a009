/**
 * bench:tpe — our TPE against random search (and Optuna's TPESampler when Python is
 * available) on the SigOpt functions and a categorical instruction × demo-set table.
 * 30 paired seeds; best-so-far (true objective, lower is better) at 25, 50 and 100 trials;
 * a one-sided Wilcoxon signed-rank test of TPE < random at 100 trials; against Optuna, the
 * paired difference at 100 trials with its 95% interval and an equivalence verdict with a
 * margin of 10% of Optuna's mean distance from the optimum.
 *
 *   npm run bench:tpe [-- --seeds 30 --trials 100 --no-optuna]
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { askTpe, initTpe, tellTpe, type TpeConfig } from '../optimizers/tpe.js';
import { seedPrng } from '../optimizers/prng.js';
import { sampleUniform, toExternal } from '../optimizers/search-space.js';
import { pythonForBenchmarks, runPython } from './python-env.js';
import { equivalence, pairedDifference } from './paired-difference.js';
import { mean, median, std, wilcoxonLess, wilcoxonTwoSided } from './statistics.js';
import {
  CONTINUOUS_FUNCTIONS,
  categoricalTable,
  tableFunction,
  type TestFunction,
} from './test-functions.js';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '30' },
    trials: { type: 'string', default: '100' },
    'no-optuna': { type: 'boolean', default: false },
    multivariate: { type: 'boolean', default: false },
  },
});
const nSeeds = Number(args.seeds);
const nTrials = Number(args.trials);
const seeds = Array.from({ length: nSeeds }, (_, i) => i);
const checkpoints = [25, 50, 100].filter((c) => c <= nTrials);

const table = categoricalTable(12, 8, seeds, nTrials);
const functions: TestFunction[] = [...CONTINUOUS_FUNCTIONS, tableFunction(table)];
const noiseFor = (fn: TestFunction, seed: number, t: number) =>
  fn.name === 'instructionDemo' ? table.noise[String(seed)]![t]! : 0;

/** True objective of each trial, in order. */
function runRandom(fn: TestFunction, seed: number): number[] {
  const prng = seedPrng(seed * 7 + 1);
  const out: number[] = [];
  for (let t = 0; t < nTrials; t++) {
    const params = Object.fromEntries(
      Object.entries(fn.space).map(([n, d]) => [n, toExternal(d, sampleUniform(d, prng))]),
    );
    out.push(fn.f(params));
  }
  return out;
}

function runTpe(fn: TestFunction, seed: number, extra: Partial<TpeConfig>): number[] {
  const state = initTpe(fn.space, { seed, ...extra });
  const out: number[] = [];
  for (let t = 0; t < nTrials; t++) {
    const { trialNumber, params } = askTpe(state);
    const truth = fn.f(params);
    tellTpe(state, trialNumber, truth + noiseFor(fn, seed, t));
    out.push(truth);
  }
  return out;
}

const bestAt = (values: number[], n: number) => Math.min(...values.slice(0, n));

type Curves = Record<string, number[][]>; // method -> per seed -> values
const curves: Record<string, Curves> = {};
const timings: Record<string, number> = {};
for (const fn of functions) {
  const started = performance.now();
  curves[fn.name] = {
    random: seeds.map((s) => runRandom(fn, s)),
    tpe: seeds.map((s) => runTpe(fn, s, { multivariate: args.multivariate })),
  };
  timings[fn.name] = (performance.now() - started) / nSeeds;
  console.error(`${fn.name}: done (${timings[fn.name]!.toFixed(0)} ms per seed for random + TPE)`);
}

let optunaVersion: string | null = null;
let optunaSkipped: string | null = null;
if (!args['no-optuna']) {
  const py = pythonForBenchmarks(root);
  if ('missing' in py) {
    optunaSkipped = py.missing;
  } else {
    const started = performance.now();
    const out = runPython(py.python, path.join(root, 'bench', 'python', 'optuna_tpe.py'), {
      trials: nTrials,
      seeds,
      functions: functions.map((f) => f.name),
      table: { values: table.values, noise: table.noise },
    }) as { optunaVersion: string; results: Record<string, Record<string, number[]>> };
    optunaVersion = out.optunaVersion;
    for (const fn of functions) curves[fn.name]!.optuna = seeds.map((s) => out.results[fn.name]![String(s)]!);
    console.error(`optuna ${optunaVersion}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
} else optunaSkipped = '--no-optuna';

const summary: Record<string, unknown> = {};
const rows: string[][] = [];
for (const fn of functions) {
  const methods: Record<string, unknown> = {};
  const c = curves[fn.name]!;
  const best100 = (m: string) => c[m]!.map((v) => bestAt(v, nTrials));
  for (const [method, perSeed] of Object.entries(c)) {
    const entry: Record<string, unknown> = {};
    for (const n of checkpoints) {
      const xs = perSeed.map((v) => bestAt(v, n));
      entry[`bestAt${n}`] = { mean: mean(xs), median: median(xs), std: std(xs) };
    }
    methods[method] = entry;
  }
  const pValueVsRandom = wilcoxonLess(best100('tpe'), best100('random'));
  // Equivalence needs a stated margin; a scale-free one: a tenth of how far Optuna itself
  // stays from the optimum on this function.
  const margin = c.optuna ? 0.1 * mean(best100('optuna').map((v) => v - fn.optimum)) : 0;
  const difference = c.optuna ? pairedDifference(best100('tpe'), best100('optuna')) : null;
  const vsOptuna =
    c.optuna && difference
      ? {
          difference,
          margin,
          verdict: equivalence(difference, margin),
          pValueTwoSided: wilcoxonTwoSided(best100('tpe'), best100('optuna')),
          pValueOursBetter: wilcoxonLess(best100('tpe'), best100('optuna')),
          pValueOptunaBetter: wilcoxonLess(best100('optuna'), best100('tpe')),
        }
      : null;
  summary[fn.name] = {
    optimum: fn.optimum,
    methods,
    pValueVsRandom,
    tpeBeatsRandom: pValueVsRandom < 0.05,
    vsOptuna,
    msPerSeed: timings[fn.name],
  };
  const fmt = (m: string) => (c[m] ? mean(best100(m)).toPrecision(4) : '—');
  rows.push([
    fn.name,
    fmt('random'),
    fmt('tpe'),
    fmt('optuna'),
    pValueVsRandom.toExponential(1),
    vsOptuna
      ? `${vsOptuna.difference.estimate.toPrecision(3)} [${vsOptuna.difference.low.toPrecision(3)}, ${vsOptuna.difference.high.toPrecision(3)}]`
      : '—',
    vsOptuna ? `${vsOptuna.verdict} (±${vsOptuna.margin.toPrecision(2)})` : '—',
  ]);
}

const header = [
  'function',
  `random@${nTrials}`,
  `tpe@${nTrials}`,
  `optuna@${nTrials}`,
  'p(tpe<random)',
  'tpe−optuna [95% CI]',
  'vs optuna (margin)',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`mean best-so-far over ${nSeeds} seeds (lower is better)`);
console.log(line(header));
for (const r of rows) console.log(line(r));

const result = {
  benchmark: 'tpe',
  seeds: nSeeds,
  trials: nTrials,
  checkpoints,
  tpeConfig: { multivariate: args.multivariate },
  optunaVersion,
  optunaSkipped,
  tableNoiseSd: table.noiseSd,
  functions: summary,
};
mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(root, 'bench', 'results', 'tpe.json'), JSON.stringify(result, null, 2) + '\n');
console.log('wrote bench/results/tpe.json');
