/**
 * Where MIPRO's rollouts go and how good its proposals are (a one-off tool for issue 16, not
 * part of bench:optimizers): our MIPRO in process on airline, synthetic-12 and any
 * `--scenario FILE`, once per settings object, the same seeds and budget as bench:optimizers.
 * Per run: rollouts until the pick reaches 90 % of the oracle on the test split, final test
 * score, rollouts spent by purpose, and of the instructions the teacher proposed (all rounds,
 * and the first round's rewrites of the baseline alone), how many score ≥ 90 % of the oracle on
 * the test split on their own (without demos), the best of them, and the rules the dataset
 * summary names. Run from an older checkout, it measures the code before a change.
 *
 *   npx tsx bench/mipro-probe.ts --seeds 10 --settings '{"numCandidates":12}' \
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

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10' },
    budget: { type: 'string', default: '6000' },
    settings: { type: 'string', multiple: true, default: ['{"numCandidates":12}'] },
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
    optimizerFor(OptimizerChoice.parse({ name: 'mipro', settings })),
  );
  const instructions: string[] = [];
  const firstRound: string[] = [];
  let summary = '';
  const purposes = new Map<string, number>();
  for (let step = search.next(); step.kind !== 'done'; step = search.next()) {
    if (step.kind === 'evaluate') {
      const { scores } = await evaluateCandidate(io, step.candidate, step.candidateId, step.exampleIds);
      const p = step.purpose.replace(/\d+/g, 'N');
      purposes.set(p, (purposes.get(p) ?? 0) + step.exampleIds.length);
      search.respond({ kind: 'evaluated', scores });
    } else {
      const taught = await teach(io, step.task, step.sample);
      if (step.task.type === 'instruct') {
        instructions.push(...taught.textIds);
        if (step.task.candidate === h.baseline) firstRound.push(...taught.textIds);
      }
      if (step.task.type === 'summarize' && taught.textIds[0])
        summary = (await io.store.texts([taught.textIds[0]])).get(taught.textIds[0]) ?? '';
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
  const instructionTests = await Promise.all(
    instructions.map((id) => h.testScore({ ...h.baseline, system: id })),
  );
  const firstTests = await Promise.all(firstRound.map((id) => h.testScore({ ...h.baseline, system: id })));
  const named = h.scenario.rules.filter((r) => r.symptoms.some((s) => summary.includes(s))).length;
  return {
    seed,
    to90,
    test: await h.testScore(outcome.best),
    search: outcome.bestScore,
    rollouts: outcome.rollouts,
    proposals: instructions.length,
    good: instructionTests.filter((t) => t >= target).length,
    firstRound: firstTests.length,
    firstGood: firstTests.filter((t) => t >= target).length,
    bestInstruction: Math.max(...instructionTests),
    summaryRules: named,
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
  const oracle = await h.testScore(h.oracle);
  const target = 0.9 * oracle;
  for (const settingsText of args.settings) {
    const settings = JSON.parse(settingsText) as unknown;
    const runs = [];
    for (let seed = 0; seed < nSeeds; seed++) runs.push(await run(h, settings, seed, target));
    const to90 = runs.map((r) => r.to90 ?? Infinity);
    const purposes = new Map<string, number>();
    for (const r of runs)
      for (const [k, v] of r.purposes) purposes.set(k, (purposes.get(k) ?? 0) + v / runs.length);
    console.log(
      `${scenario.name} ${settingsText} (rules ${scenario.rules.length}, train ${h.trainIds.length}, target ${target.toFixed(3)})\n` +
        `  to90 median ${median(to90)} reached ${runs.filter((r) => r.to90 !== null).length}/${runs.length}` +
        ` per seed [${runs.map((r) => r.to90 ?? '-').join(' ')}]\n` +
        `  final test ${mean(runs.map((r) => r.test)).toFixed(3)}, search ${mean(runs.map((r) => r.search)).toFixed(3)},` +
        ` rollouts ${mean(runs.map((r) => r.rollouts)).toFixed(0)}\n` +
        `  proposals ${mean(runs.map((r) => r.proposals)).toFixed(1)}, ≥90 % alone ${mean(runs.map((r) => r.good)).toFixed(2)}` +
        ` (runs with any: ${runs.filter((r) => r.good > 0).length}), best proposal test ${mean(runs.map((r) => r.bestInstruction)).toFixed(3)},` +
        ` rules named in summary ${mean(runs.map((r) => r.summaryRules)).toFixed(1)}\n` +
        `  first round: ${runs.reduce((a, r) => a + r.firstGood, 0)} of ${runs.reduce((a, r) => a + r.firstRound, 0)} proposals ≥90 % alone\n` +
        `  rollouts by purpose: ${[...purposes].map(([k, v]) => `${k} ${v.toFixed(0)}`).join('; ')}`,
    );
  }
}
