/**
 * bench:optimizers — every prompt optimizer against random search on simulator scenarios,
 * and our GEPA beside the reference implementation (PyPI `gepa`, method `gepa-reference`).
 * Per scenario and seed, each method runs to a fixed rollout budget; every time its pick
 * changes, the pick is scored on the held-out test split (which no optimizer sees). Reports
 * the median (IQR) rollouts until the pick's test score reaches 90% of the oracle's, the
 * test score at 500/1,000/2,000 rollouts, and the final pick's test score.
 *
 *   npm run bench:optimizers [-- --seeds 20 --budget 6000 --reference-seeds 20
 *                               --methods gepa,gepa-reference --scenario my-world.json ...]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Candidate } from '../optimizers/prompt-search.js';
import { AIRLINE_SCENARIO, loadScenario, type Scenario } from '../test/simulator/scenario.js';
import { runGepaReference } from './gepa-reference.js';
import { runSearch, scenarioHarness, type ScenarioHarness } from './optimization-harness.js';
import { pairedDifference } from './paired-difference.js';
import { pythonForBenchmarks } from './python-env.js';
import { mean, median, quantile, wilcoxonLess, wilcoxonTwoSided } from './statistics.js';
import { syntheticScenario } from './synthetic-scenario.js';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '20' },
    budget: { type: 'string', default: '6000' },
    'reference-seeds': { type: 'string' },
    methods: { type: 'string' },
    scenario: { type: 'string', multiple: true, default: [] },
  },
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
/**
 * gepa.optimize with its defaults (minibatch 3, epoch-shuffled; Pareto candidate selection
 * over per-instance fronts; round-robin components; strict-improvement acceptance on the
 * minibatch sum; skip perfect minibatches; merge off; valset = trainset with full evaluation;
 * no evaluation cache, so repeated rollouts count against max_metric_calls).
 */
const REFERENCE = 'gepa-reference';
const REFERENCE_SETTINGS = {
  package: 'gepa (PyPI, bench/python/requirements.txt)',
  call: 'gepa.optimize(seed_candidate={system}, trainset=train, adapter, reflection_lm, max_metric_calls=budget, seed)',
  defaults: {
    reflection_minibatch_size: 3,
    candidate_selection_strategy: 'pareto',
    frontier_type: 'instance',
    module_selector: 'round_robin',
    acceptance_criterion: 'strict_improvement',
    skip_perfect_score: true,
    use_merge: false,
    valset: 'trainset (full_eval)',
    cache_evaluation: false,
  },
};

const known = [...Object.keys(METHODS), REFERENCE];
const methods = args.methods ? args.methods.split(',').map((m) => m.trim()) : known;
const unknown = methods.filter((m) => !known.includes(m));
if (unknown.length) {
  console.error(`Unknown method(s) ${unknown.join(', ')}; choose from ${known.join(', ')}.`);
  process.exit(2);
}
const referenceSeeds = Math.min(Number(args['reference-seeds'] ?? nSeeds), nSeeds);

let python: string | null = null;
let referenceSkipped: string | null = null;
if (methods.includes(REFERENCE)) {
  const env = pythonForBenchmarks(root);
  if ('missing' in env) {
    referenceSkipped = env.missing;
    console.error(`${REFERENCE} skipped: ${env.missing}`);
  } else python = env.python;
}

const scenarios: Scenario[] = [
  loadScenario(AIRLINE_SCENARIO),
  syntheticScenario(),
  ...args.scenario.map((file) => loadScenario(file)),
];

interface Run {
  seed: number;
  rolloutsTo90: number | null;
  scoreAt: Record<number, number>;
  testScore: number;
  searchScore: number;
  rollouts: number;
  teacherCalls: number;
  teacherTokens?: number;
  stopReason?: string;
  warnings?: string[];
  seconds?: number;
}

/** The common record of one run: its picks over rollouts, scored on the test split. */
async function scoreRun(
  h: ScenarioHarness,
  picks: { rollouts: number; candidate: Candidate }[],
  final: Candidate,
  target: number,
  baseline: number,
): Promise<Pick<Run, 'rolloutsTo90' | 'scoreAt' | 'testScore'>> {
  const curve: { rollouts: number; test: number }[] = [];
  for (const p of picks) curve.push({ rollouts: p.rollouts, test: await h.testScore(p.candidate) });
  const at = (b: number) => [...curve].reverse().find((p) => p.rollouts <= b)?.test ?? baseline;
  return {
    rolloutsTo90: curve.find((p) => p.test >= target)?.rollouts ?? null,
    scoreAt: Object.fromEntries(checkpoints.map((b) => [b, at(b)])),
    testScore: await h.testScore(final),
  };
}

async function ourRuns(h: ScenarioHarness, choice: unknown, target: number, baseline: number) {
  const runs: Run[] = [];
  for (let seed = 0; seed < nSeeds; seed++) {
    const { outcome, teacherTokens } = await runSearch(h, choice, {
      seed,
      budget: { maxRollouts: budget, maxTeacherCalls: null },
      stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
    });
    const picks = outcome.trajectory.flatMap((point) => {
      const candidate =
        h.store.candidates.get(point.candidateId) ??
        (point.candidateId === outcome.baselineCandidateId ? h.baseline : null);
      return candidate ? [{ rollouts: point.rollouts, candidate }] : [];
    });
    runs.push({
      seed,
      ...(await scoreRun(h, picks, outcome.best, target, baseline)),
      searchScore: outcome.bestScore,
      rollouts: outcome.rollouts,
      teacherCalls: outcome.teacherCalls,
      teacherTokens,
      stopReason: outcome.stopReason,
      warnings: outcome.warnings,
    });
  }
  return runs;
}

async function referenceRuns(h: ScenarioHarness, target: number, baseline: number) {
  const seeds = Array.from({ length: referenceSeeds }, (_, i) => i);
  const runs: Run[] = [];
  let version = '';
  for (const r of await runGepaReference(h, python!, seeds, budget)) {
    version = r.gepaVersion;
    runs.push({
      seed: r.seed,
      ...(await scoreRun(h, r.curve, r.best, target, baseline)),
      searchScore: r.bestValScore,
      rollouts: r.rollouts,
      teacherCalls: r.teacherCalls,
      seconds: r.seconds,
    });
  }
  return { runs, version };
}

// Runs that never reach the target count as +∞ in medians; in rank tests as 10 × the budget.
const censored = (runs: Run[]) => runs.map((r) => r.rolloutsTo90 ?? budget * 10);
const orNull = (x: number) => (Number.isFinite(x) ? x : null);

function summary(runs: Run[], seconds: number, settings: unknown) {
  const to90 = runs.map((r) => r.rolloutsTo90 ?? Infinity);
  return {
    settings,
    seeds: runs.length,
    rolloutsTo90: {
      median: orNull(median(to90)),
      q25: orNull(quantile(to90, 0.25)),
      q75: orNull(quantile(to90, 0.75)),
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
    secondsPerRun: seconds / runs.length,
    ratioToRandom: null as number | null,
    pValueVsRandom: undefined as number | undefined,
    runs,
  };
}
type Summary = ReturnType<typeof summary>;

/** gepa − gepa-reference over the seeds both ran: estimate, 95% CI, Wilcoxon p-values. */
function compare(ours: Run[], reference: Run[]) {
  const seeds = reference.map((r) => r.seed).filter((s) => ours.some((o) => o.seed === s));
  const a = seeds.map((s) => ours.find((r) => r.seed === s)!);
  const b = seeds.map((s) => reference.find((r) => r.seed === s)!);
  const paired = (x: number[], y: number[], lowerIsBetter: boolean) => {
    const hl = pairedDifference(x, y);
    return {
      ours: { median: median(x), mean: mean(x) },
      reference: { median: median(y), mean: mean(y) },
      difference: hl.estimate,
      ci95: [hl.low, hl.high],
      pTwoSided: wilcoxonTwoSided(x, y),
      pOursBetter: lowerIsBetter ? wilcoxonLess(x, y) : wilcoxonLess(y, x),
    };
  };
  return {
    pairs: seeds.length,
    difference: 'ours − reference, Hodges–Lehmann estimate with the Wilcoxon-inverted 95% CI',
    rolloutsTo90: {
      ...paired(censored(a), censored(b), true),
      note: `runs that never reach 90% of the oracle count as ${budget * 10} rollouts`,
    },
    testScore: paired(
      a.map((r) => r.testScore),
      b.map((r) => r.testScore),
      false,
    ),
  };
}

const results: Record<string, unknown> = {};
const table: string[][] = [];
const comparisons: string[] = [];
let referenceVersion = '';
for (const scenario of scenarios) {
  const h = await scenarioHarness(scenario);
  const oracle = await h.testScore(h.oracle);
  const baseline = await h.testScore(h.baseline);
  const target = 0.9 * oracle;
  const summaries: Record<string, Summary> = {};
  for (const method of methods) {
    const started = performance.now();
    console.error(`${scenario.name}: ${method} ...`);
    if (method === REFERENCE) {
      if (!python || referenceSeeds < 1) continue;
      const { runs, version } = await referenceRuns(h, target, baseline);
      referenceVersion = version;
      summaries[method] = summary(runs, (performance.now() - started) / 1000, {
        ...REFERENCE_SETTINGS,
        version,
      });
      continue;
    }
    const runs = await ourRuns(h, METHODS[method], target, baseline);
    summaries[method] = summary(runs, (performance.now() - started) / 1000, METHODS[method]);
  }
  const random = summaries.random;
  for (const [method, m] of Object.entries(summaries)) {
    const randomMedian = random?.rolloutsTo90.median ?? null;
    m.ratioToRandom =
      m.rolloutsTo90.median !== null && randomMedian ? m.rolloutsTo90.median / randomMedian : null;
    if (method !== 'random' && random && random.runs.length === m.runs.length)
      m.pValueVsRandom = wilcoxonLess(censored(m.runs), censored(random.runs));
    table.push([
      scenario.name,
      method,
      `${m.seeds}`,
      m.rolloutsTo90.median === null
        ? `never (${m.rolloutsTo90.reached}/${m.seeds})`
        : `${m.rolloutsTo90.median} [${m.rolloutsTo90.q25}–${m.rolloutsTo90.q75 ?? '∞'}]`,
      m.ratioToRandom !== null
        ? m.ratioToRandom.toFixed(2)
        : m.rolloutsTo90.median !== null && random && randomMedian === null
          ? `<${(m.rolloutsTo90.median / budget).toFixed(2)}`
          : '—',
      ...checkpoints.map((b) => m.scoreAt[b]!.mean.toFixed(3)),
      m.testScore.mean.toFixed(3),
      m.secondsPerRun.toFixed(2),
    ]);
  }
  let comparison: ReturnType<typeof compare> | null = null;
  if (summaries.gepa && summaries[REFERENCE]) {
    comparison = compare(summaries.gepa.runs, summaries[REFERENCE].runs);
    const r = comparison.rolloutsTo90;
    const t = comparison.testScore;
    comparisons.push(
      `${scenario.name}: gepa − gepa-reference over ${comparison.pairs} seeds: rollouts→90% ` +
        `${r.difference.toFixed(0)} [${r.ci95.map((x) => x.toFixed(0)).join(', ')}] (Wilcoxon p=${r.pTwoSided.toFixed(3)}); ` +
        `final test ${t.difference.toFixed(3)} [${t.ci95.map((x) => x.toFixed(3)).join(', ')}] (p=${t.pTwoSided.toFixed(3)})`,
    );
  }
  results[scenario.name] = {
    oracle,
    baseline,
    target,
    trainExamples: h.trainIds.length,
    testExamples: h.testIds.length,
    methods: summaries,
    ...(comparison ? { gepaVsReference: comparison } : {}),
  };
}

const header = [
  'scenario',
  'method',
  'seeds',
  'rollouts→90% median [IQR]',
  '÷random',
  ...checkpoints.map((b) => `test@${b}`),
  'final test',
  's/run',
];
const widths = header.map((x, i) => Math.max(x.length, ...table.map((r) => r[i]!.length)));
console.log(
  `${nSeeds} seeds, budget ${budget} rollouts per run` +
    (python ? `; ${REFERENCE} (gepa ${referenceVersion}): ${referenceSeeds} seeds (--reference-seeds)` : ''),
);
if (referenceSkipped) console.log(`${REFERENCE} skipped: ${referenceSkipped}`);
console.log(header.map((x, i) => x.padEnd(widths[i]!)).join('  '));
for (const r of table) console.log(r.map((x, i) => x.padEnd(widths[i]!)).join('  '));
for (const c of comparisons) console.log(c);
mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
writeFileSync(
  path.join(root, 'bench', 'results', 'optimizers.json'),
  JSON.stringify(
    {
      benchmark: 'optimizers',
      seeds: nSeeds,
      referenceSeeds: python ? referenceSeeds : 0,
      ...(referenceSkipped ? { referenceSkipped } : {}),
      budget,
      checkpoints,
      methods,
      scenarios: results,
    },
    null,
    2,
  ) + '\n',
);
console.log('wrote bench/results/optimizers.json');
