/**
 * GEPA settings side by side (a one-off tool for issue 16, not part of bench:optimizers):
 * our GEPA in process on airline, synthetic-12 and any `--scenario FILE`, once per settings
 * object given, the same seeds and budget as bench:optimizers. Per scenario and settings:
 * rollouts until the pick reaches 90 % of the oracle on the test split, final test score,
 * rollouts and teacher calls, and repeated proposals (reflections answered with a text
 * already tried, or the parent's own: a teacher call and no rollout). Each settings object
 * after the first is compared with the first, paired over seeds (Hodges–Lehmann difference,
 * 95 % CI, Wilcoxon p); where a bench:optimizers results file holds gepa-reference runs of
 * the scenario (`--ref`), with those too. `--label-noise 0.1` relabels a tenth of the train
 * split (every example whose index i has 7919·i mod 100 < 10) to expect a tool that does not
 * exist, as mislabelled reviewed examples do in bench:flywheel; the test split is untouched.
 *
 *   npx tsx bench/gepa-settings.ts --seeds 100 \
 *     --settings '{"growParetoSet":false,"avoidRepeatedReflections":false,"showTriedReflections":0}' \
 *     --settings '{}' --scenario bench/scenarios/shop-8.json --ref bench/results/optimizers.json
 */
import { existsSync, readFileSync } from 'node:fs';
import type { SearchExample } from '../optimization/search-store.js';
import { scenarioHarness, type ScenarioHarness } from './optimization-harness.js';
import { pairedDifference } from './paired-difference.js';
import { probeArgs, probeScenarios, probeSearch, rolloutsToTarget } from './probe-search.js';
import { mean, median, wilcoxonTwoSided } from './statistics.js';

const args = probeArgs(
  { seeds: '20', settings: '{}' },
  { ref: { type: 'string', multiple: true, default: [] }, 'label-noise': { type: 'string', default: '0' } },
);
const { nSeeds, budget } = args;
/** Share of the train split relabelled to expect a step no prompt gives, like a reviewer's mistake. */
const labelNoise = Number(args.values['label-noise']);

interface Run {
  seed: number;
  to90: number | null;
  test: number;
  rollouts: number;
  teacherCalls: number;
  repeated: number;
}
type ReferenceRun = { seed: number; rolloutsTo90: number | null; testScore: number };

/** gepa-reference runs per scenario and seed, from bench:optimizers results files. */
const references = new Map<string, Map<number, ReferenceRun>>();
for (const file of args.values.ref.filter((f) => existsSync(f))) {
  const results = JSON.parse(readFileSync(file, 'utf8')) as {
    scenarios: Record<string, { methods: Record<string, { runs: ReferenceRun[] }> }>;
  };
  for (const [name, s] of Object.entries(results.scenarios)) {
    const runs = s.methods['gepa-reference']?.runs ?? [];
    if (!references.has(name)) references.set(name, new Map());
    for (const r of runs) references.get(name)!.set(r.seed, r);
  }
}

async function run(h: ScenarioHarness, settings: unknown, seed: number, target: number): Promise<Run> {
  let repeated = 0;
  let reflected = false;
  // A reflection whose answer is not tried on the minibatch was a repeat (or the parent's text).
  const { outcome } = await probeSearch(h, { name: 'gepa', settings }, seed, budget, {
    evaluated(request) {
      if (reflected && request.purpose !== 'reflection minibatch (child)') repeated++;
      reflected = false;
    },
    taught(request) {
      if (reflected) repeated++;
      reflected = request.task.type === 'reflect';
      return Promise.resolve();
    },
  });
  if (reflected) repeated++;
  const to90 = await rolloutsToTarget(h, outcome, target);
  return {
    seed,
    to90,
    test: await h.testScore(outcome.best),
    rollouts: outcome.rollouts,
    teacherCalls: outcome.teacherCalls,
    repeated,
  };
}

// Runs that never reach the target count as 10 × the budget, as in bench:optimizers.
const censored = (runs: readonly { to90: number | null }[]) => runs.map((r) => r.to90 ?? budget * 10);
const paired = (label: string, a: number[], b: number[], digits: number) => {
  const d = pairedDifference(a, b);
  const f = (x: number) => x.toFixed(digits);
  // Mostly-zero differences (the same pick) make the Hodges–Lehmann estimate 0: the mean too.
  const diffs = a.map((x, i) => x - b[i]!);
  const m = mean(diffs);
  const sd = Math.sqrt(diffs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, diffs.length - 1));
  const half = (1.96 * sd) / Math.sqrt(diffs.length);
  const n = (test: (x: number) => boolean) => diffs.filter(test).length;
  return (
    `${label} ${f(d.estimate)} [${f(d.low)}, ${f(d.high)}] p=${wilcoxonTwoSided(a, b).toFixed(3)}` +
    ` (mean ${f(m)} [${f(m - half)}, ${f(m + half)}]; up ${n((x) => x > 0)}, down ${n((x) => x < 0)})`
  );
};

const scenarios = probeScenarios(args.scenarioFiles);
console.log(
  `${nSeeds} seeds, budget ${budget} rollouts per run` +
    (labelNoise > 0 ? `, label noise ${labelNoise} of the train split` : ''),
);
for (const scenario of scenarios) {
  const h = await scenarioHarness(scenario);
  const examples = h.store.exampleById as Map<string, SearchExample>;
  h.trainIds.forEach((id, i) => {
    if ((i * 7919) % 100 < labelNoise * 100)
      examples.set(id, { ...examples.get(id)!, expected: { action: 'no_such_tool', arguments: {} } });
  });
  const target = 0.9 * (await h.testScore(h.oracle));
  let first: Run[] | null = null;
  for (const text of args.settings) {
    const settings: unknown = JSON.parse(text);
    const runs: Run[] = [];
    for (let seed = 0; seed < nSeeds; seed++) runs.push(await run(h, settings, seed, target));
    const teacher = mean(runs.map((r) => r.teacherCalls));
    const rollouts = mean(runs.map((r) => r.rollouts));
    const lines = [
      `${scenario.name} ${text}: rollouts→90% median ${median(runs.map((r) => r.to90 ?? Infinity))} ` +
        `(${runs.filter((r) => r.to90 !== null).length}/${runs.length} reach it), final test ` +
        `${mean(runs.map((r) => r.test)).toFixed(3)}, rollouts ${rollouts.toFixed(0)}, teacher calls ` +
        `${teacher.toFixed(1)} (${(teacher / rollouts).toFixed(3)} per rollout), repeated proposals ` +
        `${mean(runs.map((r) => r.repeated)).toFixed(1)}`,
    ];
    if (first) {
      const base = first;
      lines.push(
        `  − first settings: ${paired(
          'final test',
          runs.map((r) => r.test),
          base.map((r) => r.test),
          3,
        )}; ${paired('rollouts→90%', censored(runs), censored(base), 0)}`,
      );
    } else first = runs;
    const reference = references.get(scenario.name);
    const both = runs.filter((r) => reference?.has(r.seed));
    if (reference && both.length >= 5) {
      const ref = both.map((r) => reference.get(r.seed)!);
      lines.push(
        `  − gepa-reference (${both.length} seeds): ${paired(
          'final test',
          both.map((r) => r.test),
          ref.map((r) => r.testScore),
          3,
        )}; ${paired(
          'rollouts→90%',
          censored(both),
          ref.map((r) => r.rolloutsTo90 ?? budget * 10),
          0,
        )}`,
      );
    }
    console.log(lines.join('\n'));
  }
}
