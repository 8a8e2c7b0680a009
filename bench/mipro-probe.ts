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
import { scenarioHarness, type ScenarioHarness } from './optimization-harness.js';
import { meanCounts, probeArgs, probeScenarios, probeSearch, rolloutsToTarget } from './probe-search.js';
import { mean, median } from './statistics.js';

const args = probeArgs({ seeds: '10', settings: '{"numCandidates":12}' }, { only: { type: 'string' } });

async function run(h: ScenarioHarness, settings: unknown, seed: number, target: number) {
  const instructions: string[] = [];
  const firstRound: string[] = [];
  let summary = '';
  const { outcome, purposes } = await probeSearch(h, { name: 'mipro', settings }, seed, args.budget, {
    async taught(request, textIds, io) {
      if (request.task.type === 'instruct') {
        instructions.push(...textIds);
        if (request.task.candidate === h.baseline) firstRound.push(...textIds);
      }
      if (request.task.type === 'summarize' && textIds[0])
        summary = (await io.store.texts([textIds[0]])).get(textIds[0]) ?? '';
    },
  });
  const to90 = await rolloutsToTarget(h, outcome, target);
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

for (const scenario of probeScenarios(args.scenarioFiles)) {
  if (args.values.only && scenario.name !== args.values.only) continue;
  const h = await scenarioHarness(scenario);
  const oracle = await h.testScore(h.oracle);
  const target = 0.9 * oracle;
  for (const settingsText of args.settings) {
    const settings = JSON.parse(settingsText) as unknown;
    const runs = [];
    for (let seed = 0; seed < args.nSeeds; seed++) runs.push(await run(h, settings, seed, target));
    const to90 = runs.map((r) => r.to90 ?? Infinity);
    const purposes = meanCounts(runs.map((r) => r.purposes));
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
