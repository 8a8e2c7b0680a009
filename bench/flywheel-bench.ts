/**
 * bench:flywheel — the headline benchmark: K simulated weeks of the whole loop at the
 * default agent configuration, on a real Temporal dev server and a real PostgreSQL, with the
 * simulator as every model. Each week: ≥ 1,000 production traces served through resolve,
 * the week's cycle with simulated reviewers (ground truth, a configurable error rate), an
 * approver who approves what the gate passed, and the staged rollout on live traffic;
 * then production's TRUE success on a fixed held-out set, against the oracle prompt.
 *
 * `--arms prompt,coaching,both` runs each (scenario, seed) once per arm: the prompt optimizer
 * alone (the default), reviewers' coaching alone, or both (bench/flywheel-seed-run.ts);
 * `--retire-failed-coaching` has the reviewers retire the candidate coaching a gate failed with.
 *
 *   npm run bench:flywheel [-- --scenario FILE … --weeks 6 --seeds 5 --reviewer-error 0.1
 *                              --labels-per-week 20 --arms prompt,coaching,both | --quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { InProcessSimulatorClient } from '../test/simulator/in-process-client.js';
import { AIRLINE_SCENARIO, loadScenario, type Scenario } from '../test/simulator/scenario.js';
import { SIMULATED_MODELS } from '../test/simulator/simulator-server.js';
import { flywheelChart, type ChartSeries } from './flywheel-chart.js';
import { ARMS, runSeed, type Arm, type SeedRun } from './flywheel-seed-run.js';
import { startFlywheelStack } from './flywheel-stack.js';
import { SYNTHETIC_SCENARIO_FILE } from './synthetic-scenario.js';
import { contentOf, heldOutRequests, oraclePrompt, trueSuccess } from './true-success.js';
import {
  coachedModesFixed,
  ORACLE_LEVEL,
  summarizeArm,
  summarizeWeek,
  type ArmSummary,
  type WeekSummary,
} from './week-summary.js';
import { REGRESSION_TOLERANCE } from './week-verdicts.js';

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
    arms: { type: 'string', default: 'prompt' },
    'retire-failed-coaching': { type: 'boolean', default: false },
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
  retireFailedCoaching: args['retire-failed-coaching'],
};
const arms = [...new Set(args.arms.split(',').map((a) => a.trim()))] as Arm[];
if (arms.length === 0 || arms.some((a) => !(ARMS as readonly string[]).includes(a))) {
  console.error(`--arms is a comma-separated list of ${ARMS.join(', ')}; got ${JSON.stringify(args.arms)}.`);
  process.exit(2);
}
/** The arm whose figures stay at the keys runs before arms wrote (prompt when it ran). */
const primaryArm: Arm = arms.includes('prompt') ? 'prompt' : arms[0]!;
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
const parallel = number(
  'parallel',
  args.parallel ?? String(scenarios.length * settings.seeds * arms.length),
  1,
);

const wallStart = performance.now();
const stamp = () => `${((performance.now() - wallStart) / 1000).toFixed(0).padStart(5)} s`;
const log = (line: string) => console.log(`${stamp()} │ ${line}`);
const command = `npm run bench:flywheel${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
log(
  `${command}: ${scenarios.map((s) => s.scenario.name).join(', ')}; arms ${arms.join(', ')}; ${settings.seeds} seed(s) × ${settings.weeks} week(s), ${parallel} at a time`,
);

const stack = await startFlywheelStack(log, scenarios[0]!.scenario);
const prepared = await Promise.all(
  scenarios.map(async ({ file, scenario }) => {
    const scorer = new InProcessSimulatorClient(scenario, SIMULATED_MODELS.agent);
    const heldOut = heldOutRequests(scenario, settings.heldOut);
    const oracle = await trueSuccess(scorer, contentOf(scenario, { text: oraclePrompt(scenario) }), heldOut);
    log(`${scenario.name}: oracle ${(oracle * 100).toFixed(1)}% on ${heldOut.length} held-out requests`);
    return { file, scenario, scorer, heldOut, oracle };
  }),
);

// Seed-major, so the arms of one seed run side by side under the same load.
const jobs = prepared.flatMap((p) =>
  Array.from({ length: settings.seeds }, (_, i) => arms.map((arm) => ({ p, arm, seed: i + 1 }))).flat(),
);
const runKey = (scenario: string, arm: Arm) => `${scenario}\u0000${arm}`;
const runs = new Map<string, SeedRun[]>();
let next = 0;
async function lane(): Promise<void> {
  while (next < jobs.length) {
    const { p, arm, seed } = jobs[next++]!;
    const run = await runSeed({
      stack,
      arm,
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
      retireFailedCoaching: settings.retireFailedCoaching,
      log,
    }).catch((error: unknown): SeedRun => {
      const text = error instanceof Error ? error.message : String(error);
      log(`${p.scenario.name} ${arm} seed ${seed} failed to start: ${text}`);
      return { seed, arm, agent: '', baseline: NaN, baselineRoutine: null, weeks: [], error: text };
    });
    const key = runKey(p.scenario.name, arm);
    const list = runs.get(key) ?? [];
    list.push(run);
    runs.set(key, list);
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
const pct = (x: number) => `${(x * 100).toFixed(1)}`;
for (const p of prepared) {
  const perArm = new Map<Arm, ReturnType<typeof armResult>>();
  for (const arm of arms) perArm.set(arm, armResult(p, arm));
  const primary = perArm.get(primaryArm)!;
  const { weeks, total, seedRuns, baseline } = primary;
  const week4 = weeks.find((w) => w.week === 4);
  const weeksTo = (arm: Arm) => {
    const a = perArm.get(arm);
    // Never reaching it counts as one week past the run.
    return a ? (a.summary.weeksToOracleLevel ?? settings.weeks + 1) : null;
  };
  const coachingArms = arms.filter((a) => a !== 'prompt');
  results[p.scenario.name] = {
    file: path.relative(root, p.file),
    oracle: p.oracle,
    baseline,
    heldOutRequests: p.heldOut.length,
    primaryArm,
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
      // Issue 20, measured when the arms it compares ran.
      ...(coachingArms.length
        ? {
            oracleLevel: `${ORACLE_LEVEL * 100}% of the oracle's true success (median over seeds)`,
            coachingFixesModesInWeek1: Object.fromEntries(
              coachingArms.map((a) => [a, perArm.get(a)!.week1] as const),
            ),
            coachingNoRoutineRegression: Object.fromEntries(
              coachingArms.map((a) => [a, perArm.get(a)!.summary.routineRegressionSeeds === 0] as const),
            ),
            bothReachesOracleLevelSoonerThanPrompt:
              weeksTo('both') !== null && weeksTo('prompt') !== null
                ? weeksTo('both')! < weeksTo('prompt')!
                : null,
          }
        : {}),
    },
    seeds: seedRuns,
    arms: Object.fromEntries(
      [...perArm].map(([arm, a]) => [
        arm,
        {
          agents: a.seedRuns.map((r) => r.agent),
          baseline: a.baseline,
          weeks: a.weeks,
          summary: a.summary,
          week1: a.week1,
          // The primary arm's seeds are at scenarios.<name>.seeds.
          ...(arm === primaryArm ? {} : { seeds: a.seedRuns }),
        },
      ]),
    ),
  };
  arms.forEach((arm, i) => {
    const a = perArm.get(arm)!;
    chart.push({
      name: arms.length > 1 ? `${p.scenario.name} · ${arm}` : p.scenario.name,
      oracle: p.oracle,
      showOracle: i === 0,
      points: [
        { week: 0, median: a.baseline, q25: a.baseline, q75: a.baseline },
        ...a.weeks.map((w) => ({
          week: w.week,
          median: w.trueSuccessMedian,
          q25: w.trueSuccessQ25,
          q75: w.trueSuccessQ75,
        })),
      ],
    });
    const label = arms.length > 1 ? `${p.scenario.name}/${arm}` : p.scenario.name;
    table.push([
      label,
      '0',
      `${pct(a.baseline)}`,
      `${pct(a.baseline / p.oracle)}%`,
      'starting prompt',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
    ]);
    for (const w of a.weeks) {
      const llm = (role: string) => `${Math.round(w.llmPerSeed[role]?.calls ?? 0)}`;
      const c = w.coaching;
      table.push([
        label,
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
        w.routineTrueSuccessMedian === null ? '—' : pct(w.routineTrueSuccessMedian),
        arm === 'prompt' ? '—' : `${c.created}/${c.gated}/${c.promoted}/${c.retired}/${c.active}`,
        w.loopTimeSecondsMedian === null ? '—' : w.loopTimeSecondsMedian.toFixed(0),
        `${llm('agent')}/${llm('judge')}/${llm('teacher')}/${llm('embedder')}`,
        w.wallSecondsMedian.toFixed(0),
      ]);
    }
  });
}

/** One arm of one scenario: its seeds, weekly summaries, totals and headline figures. */
function armResult(p: (typeof prepared)[number], arm: Arm) {
  const seedRuns = (runs.get(runKey(p.scenario.name, arm)) ?? []).sort((a, b) => a.seed - b.seed);
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
  return {
    seedRuns,
    baseline,
    weeks,
    total,
    summary: summarizeArm(weeks, seedRuns, p.oracle, REGRESSION_TOLERANCE),
    week1: coachedModesFixed(seedRuns),
  };
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
  'routine %',
  'coaching c/g/p/r/a',
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
if (arms.length > 1 || primaryArm !== 'prompt') {
  console.log('');
  console.log(
    `per arm (oracle level = ${ORACLE_LEVEL * 100}% of the oracle; coaching c/g/p/r/a = created/gated/promoted/retired summed over seeds, active median):`,
  );
  for (const [name, r] of Object.entries(results)) {
    const armsOf = (
      r as { arms: Record<string, { summary: ArmSummary; week1: ReturnType<typeof coachedModesFixed> }> }
    ).arms;
    for (const [arm, a] of Object.entries(armsOf)) {
      const s = a.summary;
      console.log(
        `  ${name}/${arm}: oracle level at week ${s.weeksToOracleLevel ?? 'never'} (per seed ${s.seedWeeksToOracleLevel.map((w) => w ?? '–').join(', ')}); ` +
          `routine ${s.routineBaseline === null ? '—' : pct(s.routineBaseline)} at start, lowest weekly median ${s.routineLowestMedian === null ? '—' : pct(s.routineLowestMedian)}` +
          `${s.routineRegressionWeeks.length ? ` (regressed in week ${s.routineRegressionWeeks.join(', ')})` : ''}, ` +
          `${s.routineRegressionSeeds} seed(s) with a routine regression; ` +
          `${s.releases} releases, ${s.rollbacks} rollbacks, ${s.regressionsShipped} regressions shipped` +
          (arm === 'prompt'
            ? ''
            : `; coaching ${s.coaching.created} written, ${s.coaching.gated} gated, ${s.coaching.promoted} promoted, ${s.coaching.retired} retired; ` +
              `week 1: ${a.week1.fixed} of ${a.week1.coached} coached failure modes fixed (${a.week1.fixedRight} of ${a.week1.coachedRight} rightly written)`),
      );
    }
  }
}
console.log(`wall time ${wallSeconds.toFixed(0)} s`);

const out = path.resolve(root, args.out);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ benchmark: 'flywheel', command, quick, settings, arms, parallel, wallSeconds, scenarios: results }, null, 2)}\n`,
);
const svg = out.replace(/\.json$/, '') + '.svg';
writeFileSync(
  svg,
  flywheelChart(
    chart,
    `bench:flywheel: true success by week${arms.length > 1 ? ' per arm' : ''} (${settings.seeds} seed(s), median and IQR)`,
  ),
);
console.log(`wrote ${path.relative(root, out)} and ${path.relative(root, svg)}`);
