/**
 * bench:optimizers — every prompt optimizer against random search on simulator scenarios.
 * Per scenario and seed, each method runs to a fixed rollout budget; every time its pick
 * changes, the pick is scored on the held-out test split (which no optimizer sees). Reports
 * the median (IQR) rollouts until the pick's test score reaches 90% of the oracle's, the
 * test score at 500/1,000/2,000 rollouts, and the final pick's test score.
 *
 *   npm run bench:optimizers [-- --seeds 20 --budget 6000]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AIRLINE_SCENARIO, loadScenario } from '../test/simulator/scenario.js';
import { runSearch, scenarioHarness } from './optimization-harness.js';
import { mean, median, quantile, wilcoxonLess } from './statistics.js';
import { syntheticScenario } from './synthetic-scenario.js';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: { seeds: { type: 'string', default: '20' }, budget: { type: 'string', default: '6000' } },
});
const nSeeds = Number(args.seeds);
const budget = Number(args.budget);
const checkpoints = [500, 1000, 2000];

/**
 * Settings per method. The optimizers' own defaults are the reference implementations';
 * the benchmark scales ProTeGi's bandit to datasets of ~100 examples (the reference spends
 * 2,048 rollouts per selection step) and runs MIPRO's "medium" preset (12 candidates).
 */
const METHODS: Record<string, unknown> = {
  random: { name: 'random-search' },
  protegi: {
    name: 'protegi',
    settings: {
      rounds: 8,
      minibatchSize: 32,
      bandit: { kind: 'ucb', rounds: 4, armsPerRound: 8, samplesPerPull: 16 },
    },
  },
  gepa: { name: 'gepa' },
  mipro: { name: 'mipro', settings: { numCandidates: 12 } },
};

const scenarios = [loadScenario(AIRLINE_SCENARIO), syntheticScenario()];
const results: Record<string, unknown> = {};
const table: string[][] = [];
for (const scenario of scenarios) {
  const h = await scenarioHarness(scenario);
  const oracle = await h.testScore(h.oracle);
  const baseline = await h.testScore(h.baseline);
  const target = 0.9 * oracle;
  const methods: Record<string, unknown> = {};
  const perMethodRollouts: Record<string, number[]> = {};
  for (const [method, choice] of Object.entries(METHODS)) {
    const started = performance.now();
    const runs: {
      seed: number;
      rolloutsTo90: number | null;
      scoreAt: Record<number, number>;
      testScore: number;
      searchScore: number;
      rollouts: number;
      teacherCalls: number;
      teacherTokens: number;
      stopReason: string;
      warnings: string[];
    }[] = [];
    for (let seed = 0; seed < nSeeds; seed++) {
      const { outcome, teacherTokens } = await runSearch(h, choice, {
        seed,
        budget: { maxRollouts: budget, maxTeacherCalls: null },
        stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
      });
      const curve: { rollouts: number; test: number }[] = [];
      for (const point of outcome.trajectory) {
        const candidate =
          h.store.candidates.get(point.candidateId) ??
          (point.candidateId === outcome.baselineCandidateId ? h.baseline : null);
        if (candidate) curve.push({ rollouts: point.rollouts, test: await h.testScore(candidate) });
      }
      const at = (b: number) => [...curve].reverse().find((p) => p.rollouts <= b)?.test ?? baseline;
      runs.push({
        seed,
        rolloutsTo90: curve.find((p) => p.test >= target)?.rollouts ?? null,
        scoreAt: Object.fromEntries(checkpoints.map((b) => [b, at(b)])),
        testScore: await h.testScore(outcome.best),
        searchScore: outcome.bestScore,
        rollouts: outcome.rollouts,
        teacherCalls: outcome.teacherCalls,
        teacherTokens,
        stopReason: outcome.stopReason,
        warnings: outcome.warnings,
      });
    }
    // Runs that never reach the target count as +∞: the median is null if half never do.
    const to90 = runs.map((r) => r.rolloutsTo90 ?? Infinity);
    perMethodRollouts[method] = to90.map((x) => (Number.isFinite(x) ? x : budget * 10));
    const med = median(to90);
    methods[method] = {
      settings: choice,
      rolloutsTo90: {
        median: Number.isFinite(med) ? med : null,
        q25: Number.isFinite(quantile(to90, 0.25)) ? quantile(to90, 0.25) : null,
        q75: Number.isFinite(quantile(to90, 0.75)) ? quantile(to90, 0.75) : null,
        reached: runs.filter((r) => r.rolloutsTo90 !== null).length,
      },
      scoreAt: Object.fromEntries(
        checkpoints.map((b) => [
          b,
          { mean: mean(runs.map((r) => r.scoreAt[b]!)), median: median(runs.map((r) => r.scoreAt[b]!)) },
        ]),
      ),
      testScore: { mean: mean(runs.map((r) => r.testScore)), median: median(runs.map((r) => r.testScore)) },
      meanRollouts: mean(runs.map((r) => r.rollouts)),
      meanTeacherCalls: mean(runs.map((r) => r.teacherCalls)),
      secondsPerRun: (performance.now() - started) / 1000 / nSeeds,
      runs,
    };
  }
  const randomMedian = (methods.random as { rolloutsTo90: { median: number | null } }).rolloutsTo90.median;
  for (const [method, m] of Object.entries(methods) as [
    string,
    {
      rolloutsTo90: { median: number | null; q25: number | null; q75: number | null; reached: number };
      scoreAt: Record<number, { mean: number }>;
      testScore: { mean: number };
      ratioToRandom?: number | null;
      pValueVsRandom?: number;
    },
  ][]) {
    m.ratioToRandom =
      m.rolloutsTo90.median !== null && randomMedian ? m.rolloutsTo90.median / randomMedian : null;
    if (method !== 'random')
      m.pValueVsRandom = wilcoxonLess(perMethodRollouts[method]!, perMethodRollouts.random!);
    table.push([
      scenario.name,
      method,
      m.rolloutsTo90.median === null
        ? `never (${m.rolloutsTo90.reached}/${nSeeds})`
        : `${m.rolloutsTo90.median} [${m.rolloutsTo90.q25}–${m.rolloutsTo90.q75 ?? '∞'}]`,
      m.ratioToRandom !== null
        ? m.ratioToRandom.toFixed(2)
        : m.rolloutsTo90.median !== null && randomMedian === null
          ? `<${(m.rolloutsTo90.median / budget).toFixed(2)}`
          : '—',
      ...checkpoints.map((b) => m.scoreAt[b]!.mean.toFixed(3)),
      m.testScore.mean.toFixed(3),
    ]);
  }
  results[scenario.name] = {
    oracle,
    baseline,
    target,
    trainExamples: h.trainIds.length,
    testExamples: h.testIds.length,
    methods,
  };
}

const header = [
  'scenario',
  'method',
  'rollouts→90% median [IQR]',
  '÷random',
  ...checkpoints.map((b) => `test@${b}`),
  'final test',
];
const widths = header.map((x, i) => Math.max(x.length, ...table.map((r) => r[i]!.length)));
console.log(`${nSeeds} seeds, budget ${budget} rollouts per run`);
console.log(header.map((x, i) => x.padEnd(widths[i]!)).join('  '));
for (const r of table) console.log(r.map((x, i) => x.padEnd(widths[i]!)).join('  '));
mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
writeFileSync(
  path.join(root, 'bench', 'results', 'optimizers.json'),
  JSON.stringify(
    { benchmark: 'optimizers', seeds: nSeeds, budget, checkpoints, scenarios: results },
    null,
    2,
  ) + '\n',
);
console.log('wrote bench/results/optimizers.json');
