/**
 * Where ProTeGi's rollouts go (a one-off tool for issue 16, not part of bench:optimizers):
 * our ProTeGi in process on airline, synthetic-12 and any `--scenario FILE`, once per
 * settings object, with the same seeds and budget as bench:optimizers. Per run: rollouts
 * until the pick reaches 90 % of the oracle on the test split, the final test score, rollouts
 * by purpose, rounds completed, and for the successors the teacher wrote (edits and
 * paraphrases), the rollouts spent when the first one that scores ≥ 90 % of the oracle on
 * its own was written: the gap between that point and "to90" is the cost of selection.
 * Run from an older checkout, it measures the code before a change.
 *
 *   npx tsx bench/protegi-probe.ts --seeds 10 --settings '{"rounds":8}' \
 *     --scenario bench/scenarios/shop-8.json --scenario bench/scenarios/shop-20-rare.json
 */
import { parseArgs } from 'node:util';
import { evaluateCandidate, teach, type SearchIo } from '../activities/search-executor.js';
import { optimizerFor } from '../optimizers/optimizer-registry.js';
import { PromptSearch } from '../optimizers/prompt-search.js';
import { OptimizerChoice } from '../schemas/optimizer-config.js';
import { AIRLINE_SCENARIO, loadScenario } from '../test/simulator/scenario.js';
import { scenarioHarness, type ScenarioHarness } from './optimization-harness.js';
import { mean, median } from './statistics.js';
import { syntheticScenario } from './synthetic-scenario.js';

/** bench:optimizers' ProTeGi settings; `--settings` objects are merged over them. */
const BENCH_SETTINGS = {
  rounds: 8,
  minibatchSize: 32,
  bandit: { kind: 'ucb', rounds: 4, armsPerRound: 8, samplesPerPull: 16 },
};

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10' },
    budget: { type: 'string', default: '6000' },
    settings: { type: 'string', multiple: true, default: ['{}'] },
    scenario: { type: 'string', multiple: true, default: [] },
    only: { type: 'string' },
  },
});
const nSeeds = Number(args.seeds);
const budget = Number(args.budget);

async function run(h: ScenarioHarness, settings: unknown, seed: number, target: number) {
  const io: SearchIo = { ...h.io, store: h.store.forRun() };
  const search = new PromptSearch(
    {
      seed,
      baseline: h.baseline,
      trainIds: h.trainIds,
      budget: { maxRollouts: budget, maxTeacherCalls: null },
      stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
    },
    optimizerFor(OptimizerChoice.parse({ name: 'protegi', settings })),
  );
  const purposes = new Map<string, number>();
  let rollouts = 0;
  let firstGoodWritten: number | null = null;
  let written = 0;
  let good = 0;
  const counts = new Map<string, number>();
  for (let step = search.next(); step.kind !== 'done'; step = search.next()) {
    if (step.kind === 'evaluate') {
      const { scores } = await evaluateCandidate(io, step.candidate, step.candidateId, step.exampleIds);
      const p = step.purpose.replace(/\d+/g, 'N');
      purposes.set(p, (purposes.get(p) ?? 0) + step.exampleIds.length);
      rollouts += step.exampleIds.length;
      search.respond({ kind: 'evaluated', scores });
    } else {
      const taught = await teach(io, step.task, step.sample);
      counts.set(step.task.type, (counts.get(step.task.type) ?? 0) + 1);
      if (step.task.type === 'edit' || step.task.type === 'paraphrase') {
        for (const id of taught.textIds) {
          written++;
          if ((await h.testScore({ ...h.baseline, system: id })) >= target) {
            good++;
            firstGoodWritten ??= rollouts;
          }
        }
      }
      search.respond({ kind: 'taught', textIds: taught.textIds });
    }
  }
  const outcome = search.outcome();
  let to90: number | null = null;
  for (const point of outcome.trajectory) {
    const c = h.store.candidates.get(point.candidateId) ?? h.baseline;
    if ((await h.testScore(c)) >= target) {
      to90 = point.rollouts;
      break;
    }
  }
  return {
    to90,
    firstGoodWritten,
    written,
    good,
    counts,
    test: await h.testScore(outcome.best),
    rollouts: outcome.rollouts,
    picks: outcome.trajectory.length,
    purposes,
  };
}

const scenarios = [
  loadScenario(AIRLINE_SCENARIO),
  syntheticScenario(),
  ...args.scenario.map((f) => loadScenario(f)),
];
for (const scenario of scenarios) {
  if (args.only && scenario.name !== args.only) continue;
  const h = await scenarioHarness(scenario);
  const target = 0.9 * (await h.testScore(h.oracle));
  for (const settingsText of args.settings) {
    const own = JSON.parse(settingsText) as Record<string, unknown>;
    const settings = {
      ...BENCH_SETTINGS,
      ...own,
      bandit: { ...BENCH_SETTINGS.bandit, ...((own.bandit as object | undefined) ?? {}) },
    };
    const runs = [];
    for (let seed = 0; seed < nSeeds; seed++) runs.push(await run(h, settings, seed, target));
    const purposes = new Map<string, number>();
    for (const r of runs)
      for (const [k, v] of r.purposes) purposes.set(k, (purposes.get(k) ?? 0) + v / runs.length);
    const teach = new Map<string, number>();
    for (const r of runs) for (const [k, v] of r.counts) teach.set(k, (teach.get(k) ?? 0) + v / runs.length);
    console.log(
      `${scenario.name} ${settingsText} (rules ${scenario.rules.length}, train ${h.trainIds.length}, target ${target.toFixed(3)})\n` +
        `  to90 median ${median(runs.map((r) => r.to90 ?? Infinity))} reached ${runs.filter((r) => r.to90 !== null).length}/${runs.length}` +
        ` per seed [${runs.map((r) => r.to90 ?? '-').join(' ')}]\n` +
        `  first successor ≥90 % alone written at median ${median(runs.map((r) => r.firstGoodWritten ?? Infinity))}` +
        ` per seed [${runs.map((r) => r.firstGoodWritten ?? '-').join(' ')}]\n` +
        `  final test ${mean(runs.map((r) => r.test)).toFixed(3)}, rollouts ${mean(runs.map((r) => r.rollouts)).toFixed(0)},` +
        ` picks ${mean(runs.map((r) => r.picks)).toFixed(1)}, successors written ${mean(runs.map((r) => r.written)).toFixed(0)}` +
        ` (≥90 % alone ${mean(runs.map((r) => r.good)).toFixed(1)})\n` +
        `  teacher calls: ${[...teach].map(([k, v]) => `${k} ${v.toFixed(1)}`).join('; ')}\n` +
        `  rollouts by purpose: ${[...purposes].map(([k, v]) => `${k} ${v.toFixed(0)}`).join('; ')}`,
    );
  }
}
