/**
 * bench:flywheel — the headline benchmark: K simulated weeks of the whole loop at the
 * default agent configuration, on a real Temporal dev server and a real PostgreSQL, with the
 * simulator as every model. Each week: ≥ 1,000 production traces served through resolve,
 * the week's cycle with simulated reviewers (ground truth, a configurable error rate), an
 * approver who approves what the gate passed, and the staged rollout on live traffic;
 * then production's TRUE success on a fixed held-out set, against the oracle prompt.
 *
 *   npm run bench:flywheel [-- --scenario FILE … --weeks 6 --seeds 5 --reviewer-error 0.1
 *                              --labels-per-week 20 | --quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { InProcessSimulatorClient } from '../test/simulator/in-process-client.js';
import { AIRLINE_SCENARIO, loadScenario, type Scenario } from '../test/simulator/scenario.js';
import { SIMULATED_MODELS } from '../test/simulator/simulator-server.js';
import { flywheelChart, type ChartSeries } from './flywheel-chart.js';
import { runSeed, type SeedRun } from './flywheel-seed-run.js';
import { startFlywheelStack } from './flywheel-stack.js';
import { SYNTHETIC_SCENARIO_FILE } from './synthetic-scenario.js';
import { contentOf, heldOutRequests, oraclePrompt, trueSuccess } from './true-success.js';
import { summarizeWeek, type WeekSummary } from './week-summary.js';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string', multiple: true },
    weeks: { type: 'string' },
    seeds: { type: 'string' },
    'reviewer-error': { type: 'string', default: '0.1' },
    'labels-per-week': { type: 'string', default: '20' },
    quick: { type: 'boolean', default: false },
    'traces-per-week': { type: 'string', default: '1000' },
    'held-out': { type: 'string', default: '2000' },
    'analysis-interval': { type: 'string', default: '2' },
    'rollout-traffic': { type: 'string', default: '150' },
    'annotation-deadline': { type: 'string', default: '10' },
    'max-resumes': { type: 'string', default: '40' },
    'approve-inconclusive': { type: 'boolean', default: false },
    'cycle-timeout': { type: 'string', default: '900' },
    parallel: { type: 'string' },
    out: { type: 'string', default: path.join('bench', 'results', 'flywheel.json') },
  },
});

function number(name: keyof typeof args, value: string | undefined, min: number, max = Infinity): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n < min || n > max) {
    console.error(
      `--${name} must be a number from ${min}${max < Infinity ? ` to ${max}` : ''}; got ${JSON.stringify(value)}.`,
    );
    process.exit(2);
  }
  return n;
}

const quick = args.quick;
const settings = {
  weeks: number('weeks', args.weeks ?? (quick ? '4' : '6'), 1),
  seeds: number('seeds', args.seeds ?? (quick ? '1' : '5'), 1),
  reviewerError: number('reviewer-error', args['reviewer-error'], 0, 1),
  labelsPerWeek: number('labels-per-week', args['labels-per-week'], 0),
  tracesPerWeek: number('traces-per-week', args['traces-per-week'], 1),
  heldOut: number('held-out', args['held-out'], 1),
  analysisIntervalSeconds: number('analysis-interval', args['analysis-interval'], 1),
  rolloutTrafficPerSecond: number('rollout-traffic', args['rollout-traffic'], 1),
  annotationDeadlineSeconds: number('annotation-deadline', args['annotation-deadline'], 1),
  maxResumes: number('max-resumes', args['max-resumes'], 0),
  approveInconclusive: args['approve-inconclusive'],
  cycleTimeoutSeconds: number('cycle-timeout', args['cycle-timeout'], 10),
};
const files = args.scenario ?? (quick ? [AIRLINE_SCENARIO] : [AIRLINE_SCENARIO, SYNTHETIC_SCENARIO_FILE]);
let scenarios: { file: string; scenario: Scenario }[];
try {
  scenarios = files.map((file) => ({ file: path.resolve(file), scenario: loadScenario(path.resolve(file)) }));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
if (new Set(scenarios.map((s) => s.scenario.name)).size !== scenarios.length) {
  console.error('Two scenario files have the same name; results are keyed by name. Rename one.');
  process.exit(2);
}
const parallel = number('parallel', args.parallel ?? String(scenarios.length * settings.seeds), 1);

const wallStart = performance.now();
const stamp = () => `${((performance.now() - wallStart) / 1000).toFixed(0).padStart(5)} s`;
const log = (line: string) => console.log(`${stamp()} │ ${line}`);
const command = `npm run bench:flywheel${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
log(
  `${command}: ${scenarios.map((s) => s.scenario.name).join(', ')}; ${settings.seeds} seed(s) × ${settings.weeks} week(s), ${parallel} at a time`,
);

const stack = await startFlywheelStack(log);
const prepared = await Promise.all(
  scenarios.map(async ({ file, scenario }) => {
    const scorer = new InProcessSimulatorClient(scenario, SIMULATED_MODELS.agent);
    const heldOut = heldOutRequests(scenario, settings.heldOut);
    const oracle = await trueSuccess(scorer, contentOf(scenario, { text: oraclePrompt(scenario) }), heldOut);
    log(`${scenario.name}: oracle ${(oracle * 100).toFixed(1)}% on ${heldOut.length} held-out requests`);
    return { file, scenario, scorer, heldOut, oracle };
  }),
);

const jobs = prepared.flatMap((p) => Array.from({ length: settings.seeds }, (_, i) => ({ p, seed: i + 1 })));
const runs = new Map<string, SeedRun[]>();
let next = 0;
async function lane(): Promise<void> {
  while (next < jobs.length) {
    const { p, seed } = jobs[next++]!;
    const run = await runSeed({
      stack,
      scenario: p.scenario,
      seed,
      weeks: settings.weeks,
      tracesPerWeek: settings.tracesPerWeek,
      reviewerError: settings.reviewerError,
      labelsPerWeek: settings.labelsPerWeek,
      heldOut: p.heldOut,
      scorer: p.scorer,
      userAgent: new InProcessSimulatorClient(p.scenario, SIMULATED_MODELS.agent),
      analysisIntervalSeconds: settings.analysisIntervalSeconds,
      annotationDeadlineSeconds: settings.annotationDeadlineSeconds,
      rolloutTrafficPerSecond: settings.rolloutTrafficPerSecond,
      maxResumes: settings.maxResumes,
      approveInconclusive: settings.approveInconclusive,
      cycleTimeoutSeconds: settings.cycleTimeoutSeconds,
      log,
    }).catch((error: unknown): SeedRun => {
      const text = error instanceof Error ? error.message : String(error);
      log(`${p.scenario.name} seed ${seed} failed to start: ${text}`);
      return { seed, agent: '', baseline: NaN, weeks: [], error: text };
    });
    const list = runs.get(p.scenario.name) ?? [];
    list.push(run);
    runs.set(p.scenario.name, list);
  }
}
try {
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, lane));
} finally {
  await stack.stop();
}
const wallSeconds = (performance.now() - wallStart) / 1000;

const results: Record<string, unknown> = {};
const table: string[][] = [];
const chart: ChartSeries[] = [];
for (const p of prepared) {
  const seedRuns = (runs.get(p.scenario.name) ?? []).sort((a, b) => a.seed - b.seed);
  const baselines = seedRuns.map((r) => r.baseline).filter(Number.isFinite);
  const baseline = baselines[0] ?? NaN;
  const weeks: WeekSummary[] = [];
  for (let w = 1; w <= settings.weeks; w++) {
    const seedWeeks = seedRuns.flatMap((r) => r.weeks.filter((x) => x.week === w));
    if (seedWeeks.length === 0) break;
    weeks.push(summarizeWeek(w, seedWeeks, p.oracle));
  }
  const total = (k: 'releases' | 'rollbacks' | 'falseRollbacks' | 'falseReleases' | 'regressionsShipped') =>
    weeks.reduce((s, w) => s + w[k], 0);
  const week4 = weeks.find((w) => w.week === 4);
  results[p.scenario.name] = {
    file: path.relative(root, p.file),
    oracle: p.oracle,
    baseline,
    heldOutRequests: p.heldOut.length,
    weeks,
    totals: {
      releases: total('releases'),
      rollbacks: total('rollbacks'),
      falseRollbacks: total('falseRollbacks'),
      falseReleases: total('falseReleases'),
      regressionsShipped: total('regressionsShipped'),
      seedsWithErrors: seedRuns.filter((r) => r.error || r.weeks.some((w) => w.error)).length,
    },
    targets: {
      week4OfOracleMedian: week4?.ofOracleMedian ?? null,
      week4AtLeast90PctOfOracle: week4 ? week4.ofOracleMedian >= 0.9 : null,
      noRegressionShipped: total('regressionsShipped') === 0,
      falseRollbacksPer20Rollouts:
        total('releases') + total('rollbacks') > 0
          ? (20 * total('falseRollbacks')) / (total('releases') + total('rollbacks'))
          : null,
      noFalseRelease: total('falseReleases') === 0,
    },
    seeds: seedRuns,
  };
  chart.push({
    name: p.scenario.name,
    oracle: p.oracle,
    points: [
      { week: 0, median: baseline, q25: baseline, q75: baseline },
      ...weeks.map((w) => ({
        week: w.week,
        median: w.trueSuccessMedian,
        q25: w.trueSuccessQ25,
        q75: w.trueSuccessQ75,
      })),
    ],
  });
  const pct = (x: number) => `${(x * 100).toFixed(1)}`;
  table.push([
    p.scenario.name,
    '0',
    `${pct(baseline)}`,
    `${pct(baseline / p.oracle)}%`,
    'starting prompt',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
  ]);
  for (const w of weeks) {
    const llm = (role: string) => `${Math.round(w.llmPerSeed[role]?.calls ?? 0)}`;
    table.push([
      p.scenario.name,
      String(w.week),
      `${pct(w.trueSuccessMedian)} [${pct(w.trueSuccessQ25)}–${pct(w.trueSuccessQ75)}]`,
      `${pct(w.ofOracleMedian)}%`,
      Object.entries(w.outcomes)
        .map(([k, v]) => `${k}×${v}`)
        .join(' '),
      String(w.releases),
      `${w.rollbacks} (${w.falseRollbacks} false)`,
      String(w.falseReleases),
      String(w.regressionsShipped),
      w.loopTimeSecondsMedian === null ? '—' : w.loopTimeSecondsMedian.toFixed(0),
      `${llm('agent')}/${llm('judge')}/${llm('teacher')}/${llm('embedder')}`,
      w.wallSecondsMedian.toFixed(0),
    ]);
  }
}

const header = [
  'scenario',
  'week',
  'true success % median [IQR]',
  'of oracle',
  'outcomes',
  'releases',
  'rollbacks',
  'false rel.',
  'regress.',
  'loop s',
  'LLM calls/seed a/j/t/e',
  'wall s',
];
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
console.log('');
console.log(
  `${settings.seeds} seed(s), ${settings.weeks} week(s), reviewer error ${settings.reviewerError}, ${settings.labelsPerWeek} labels a week, ${settings.tracesPerWeek} traces a week; oracle: ` +
    prepared.map((p) => `${p.scenario.name} ${(p.oracle * 100).toFixed(1)}%`).join(', '),
);
console.log(header.map((h, i) => h.padEnd(widths[i]!)).join('  '));
for (const r of table) console.log(r.map((x, i) => x.padEnd(widths[i]!)).join('  '));
console.log(`wall time ${wallSeconds.toFixed(0)} s`);

const out = path.resolve(root, args.out);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ benchmark: 'flywheel', command, quick, settings, parallel, wallSeconds, scenarios: results }, null, 2)}\n`,
);
const svg = out.replace(/\.json$/, '') + '.svg';
writeFileSync(
  svg,
  flywheelChart(chart, `bench:flywheel: true success by week (${settings.seeds} seed(s), median and IQR)`),
);
console.log(`wrote ${path.relative(root, out)} and ${path.relative(root, svg)}`);
