/**
 * bench:optimizers — every prompt optimizer against random search on simulator scenarios,
 * and our GEPA and MIPRO beside the reference implementations (PyPI `gepa`, method
 * `gepa-reference`; DSPy's MIPROv2 from PyPI `dspy`, method `mipro-reference`).
 * Per scenario and seed, each method runs to a fixed rollout budget; every time its pick
 * changes, the pick is scored on the held-out test split (which no optimizer sees). Reports
 * the median (IQR) rollouts until the pick's test score reaches 90% of the oracle's, the
 * test score at 500/1,000/2,000 rollouts, and the final pick's test score.
 *
 *   npm run bench:optimizers [-- --seeds 20 --budget 6000 --reference-seeds 20
 *                               --methods gepa,gepa-reference --scenario my-world.json ...
 *                               --out bench/results/optimizers.json]
 *   `--gepa-settings JSON` runs method gepa with those settings (default: its defaults).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Candidate } from '../optimizers/prompt-search.js';
import { AIRLINE_SCENARIO, loadScenario, type Scenario } from '../test/simulator/scenario.js';
import { runGepaReference } from './gepa-reference.js';
import { runMiproReference } from './mipro-reference.js';
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
    out: { type: 'string', default: path.join('bench', 'results', 'optimizers.json') },
    'mipro-reference-valset': { type: 'string', default: 'dspy' },
    'gepa-settings': { type: 'string' },
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
  gepa: args['gepa-settings']
    ? { name: 'gepa', settings: JSON.parse(args['gepa-settings']) as unknown }
    : { name: 'gepa' },
  mipro: { name: 'mipro', settings: { numCandidates: 12 } },
};
/**
 * gepa.optimize with its defaults (minibatch 3, epoch-shuffled; Pareto candidate selection
 * over per-instance fronts; round-robin components; strict-improvement acceptance on the
 * minibatch sum; skip perfect minibatches; merge off; valset = trainset with full evaluation;
 * no evaluation cache, so repeated rollouts count against max_metric_calls).
 */
const GEPA_REFERENCE = 'gepa-reference';
const GEPA_REFERENCE_SETTINGS = {
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
/**
 * MIPROv2 as a user calls it: the "medium" preset (12 candidates, as our MIPRO runs here)
 * and compile's defaults. With no valset given, MIPROv2 scores on the last 80 % of the train
 * split and bootstraps demos and summarises the data from the first 20 %; it minibatches only
 * when that valset exceeds 50 examples. Both models are DSPy LMs at the simulator's URL.
 */
const MIPRO_REFERENCE = 'mipro-reference';
const MIPRO_REFERENCE_AUTO = 'medium';
const MIPRO_REFERENCE_SETTINGS = {
  package: 'dspy (PyPI, bench/python/requirements.txt)',
  call: 'dspy.MIPROv2(metric, prompt_model, task_model, auto="medium", seed, num_threads=1).compile(program, trainset=train)',
  defaults: {
    auto: MIPRO_REFERENCE_AUTO,
    num_candidates: '12 demo sets, 6 instructions (medium, with demos)',
    num_trials: 18,
    max_bootstrapped_demos: 4,
    max_labeled_demos: 4,
    valset: 'last 80 % of the train split (compile default); demos and the data summary from the first 20 %',
    minibatch: 'size 35 when the valset exceeds 50 examples, full evaluation every 5 trials',
    program_aware_proposer: true,
    data_aware_proposer: true,
    tip_aware_proposer: true,
    fewshot_aware_proposer: true,
    lm_cache: 'off; each (system prompt, conversation) is called once, as our executor stores outputs',
  },
};
/** Reference method → the method of ours it is compared with, and the key of the comparison. */
const REFERENCES: Record<string, { ours: string; key: string }> = {
  [GEPA_REFERENCE]: { ours: 'gepa', key: 'gepaVsReference' },
  [MIPRO_REFERENCE]: { ours: 'mipro', key: 'miproVsReference' },
};

const known = [...Object.keys(METHODS), ...Object.keys(REFERENCES)];
const methods = args.methods ? args.methods.split(',').map((m) => m.trim()) : known;
const unknown = methods.filter((m) => !known.includes(m));
if (unknown.length) {
  console.error(`Unknown method(s) ${unknown.join(', ')}; choose from ${known.join(', ')}.`);
  process.exit(2);
}
const referenceSeeds = Math.min(Number(args['reference-seeds'] ?? nSeeds), nSeeds);
/**
 * A sensitivity knob for mipro-reference: `dspy` (default) lets compile split the train split
 * (80 % valset); `ours` passes a valset of our MIPRO's size (min(valSize 100, half the split)).
 */
const miproReferenceValset = args['mipro-reference-valset'];
if (miproReferenceValset !== 'dspy' && miproReferenceValset !== 'ours') {
  console.error(`--mipro-reference-valset is dspy or ours; got ${miproReferenceValset}.`);
  process.exit(2);
}

let python: string | null = null;
let referenceSkipped: string | null = null;
if (methods.some((m) => m in REFERENCES)) {
  const env = pythonForBenchmarks(root);
  if ('missing' in env) {
    referenceSkipped = env.missing;
    console.error(`reference methods skipped: ${env.missing}`);
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
  /** mipro-reference: the rollouts MIPROv2 spent when it went past the budget (cut there). */
  overBudget?: number;
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

async function referenceRuns(method: string, h: ScenarioHarness, target: number, baseline: number) {
  const seeds = Array.from({ length: referenceSeeds }, (_, i) => i);
  const runs: Run[] = [];
  let version = '';
  const answers =
    method === GEPA_REFERENCE
      ? (await runGepaReference(h, python!, seeds, budget)).map((r) => ({ ...r, version: r.gepaVersion }))
      : (
          await runMiproReference(
            h,
            python!,
            seeds,
            budget,
            MIPRO_REFERENCE_AUTO,
            {},
            miproReferenceValset === 'ours' ? Math.min(100, Math.floor(h.trainIds.length / 2)) : null,
          )
        ).map((r) => ({
          ...r,
          version: r.dspyVersion,
        }));
  for (const r of answers) {
    version = r.version;
    runs.push({
      seed: r.seed,
      ...(await scoreRun(h, r.curve, r.best, target, baseline)),
      searchScore: r.bestValScore,
      rollouts: r.rollouts,
      teacherCalls: r.teacherCalls,
      seconds: r.seconds,
      ...('overBudget' in r && r.overBudget !== undefined ? { overBudget: r.overBudget } : {}),
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

/** ours − reference over the seeds both ran: estimate, 95% CI, Wilcoxon p-values. */
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
const referenceVersions: Record<string, string> = {};
for (const scenario of scenarios) {
  const h = await scenarioHarness(scenario);
  const oracle = await h.testScore(h.oracle);
  const baseline = await h.testScore(h.baseline);
  const target = 0.9 * oracle;
  const summaries: Record<string, Summary> = {};
  for (const method of methods) {
    const started = performance.now();
    console.error(`${scenario.name}: ${method} ...`);
    if (method in REFERENCES) {
      if (!python || referenceSeeds < 1) continue;
      const { runs, version } = await referenceRuns(method, h, target, baseline);
      referenceVersions[method] = version;
      summaries[method] = summary(runs, (performance.now() - started) / 1000, {
        ...(method === GEPA_REFERENCE ? GEPA_REFERENCE_SETTINGS : MIPRO_REFERENCE_SETTINGS),
        ...(method === MIPRO_REFERENCE && miproReferenceValset === 'ours'
          ? { valset: "our MIPRO's size" }
          : {}),
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
  const paired: Record<string, ReturnType<typeof compare>> = {};
  for (const [reference, { ours, key }] of Object.entries(REFERENCES)) {
    const a = summaries[ours];
    const b = summaries[reference];
    if (!a || !b) continue;
    const comparison = compare(a.runs, b.runs);
    paired[key] = comparison;
    const r = comparison.rolloutsTo90;
    const t = comparison.testScore;
    comparisons.push(
      `${scenario.name}: ${ours} − ${reference} over ${comparison.pairs} seeds: rollouts→90% ` +
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
    ...paired,
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
const versions = Object.entries(referenceVersions).map(([m, v]) => `${m} (${v})`);
console.log(
  `${nSeeds} seeds, budget ${budget} rollouts per run` +
    (python && versions.length
      ? `; ${versions.join(', ')}: ${referenceSeeds} seeds (--reference-seeds)`
      : ''),
);
if (referenceSkipped) console.log(`reference methods skipped: ${referenceSkipped}`);
console.log(header.map((x, i) => x.padEnd(widths[i]!)).join('  '));
for (const r of table) console.log(r.map((x, i) => x.padEnd(widths[i]!)).join('  '));
for (const c of comparisons) console.log(c);
const out = path.resolve(root, args.out);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    {
      benchmark: 'optimizers',
      seeds: nSeeds,
      referenceSeeds: python ? referenceSeeds : 0,
      ...(versions.length ? { referenceVersions } : {}),
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
console.log(`wrote ${path.relative(root, out)}`);
