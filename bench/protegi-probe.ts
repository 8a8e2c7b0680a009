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
import { scenarioHarness, type ScenarioHarness } from './optimization-harness.js';
import { meanCounts, probeArgs, probeScenarios, probeSearch, rolloutsToTarget } from './probe-search.js';
import { mean, median } from './statistics.js';

/** bench:optimizers' ProTeGi settings; `--settings` objects are merged over them. */
const BENCH_SETTINGS = {
  rounds: 8,
  minibatchSize: 32,
  bandit: { kind: 'ucb', rounds: 4, armsPerRound: 8, samplesPerPull: 16 },
};

const args = probeArgs({ seeds: '10', settings: '{}' }, { only: { type: 'string' } });

async function run(h: ScenarioHarness, settings: unknown, seed: number, target: number) {
  let rollouts = 0;
  let firstGoodWritten: number | null = null;
  let written = 0;
  let good = 0;
  const counts = new Map<string, number>();
  const { outcome, purposes } = await probeSearch(h, { name: 'protegi', settings }, seed, args.budget, {
    evaluated(request) {
      rollouts += request.exampleIds.length;
    },
    async taught(request, textIds) {
      counts.set(request.task.type, (counts.get(request.task.type) ?? 0) + 1);
      if (request.task.type === 'edit' || request.task.type === 'paraphrase') {
        for (const id of textIds) {
          written++;
          if ((await h.testScore({ ...h.baseline, system: id })) >= target) {
            good++;
            firstGoodWritten ??= rollouts;
          }
        }
      }
    },
  });
  const to90 = await rolloutsToTarget(h, outcome, target);
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

for (const scenario of probeScenarios(args.scenarioFiles)) {
  if (args.values.only && scenario.name !== args.values.only) continue;
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
    for (let seed = 0; seed < args.nSeeds; seed++) runs.push(await run(h, settings, seed, target));
    const purposes = meanCounts(runs.map((r) => r.purposes));
    const teach = meanCounts(runs.map((r) => r.counts));
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
