/**
 * bench:coaching-calibration — true and false recall of a coaching created without a
 * threshold: the fixed default (DEFAULT_COACHING_THRESHOLD) against the calibrated one
 * (coaching/threshold-calibration.ts), on every situation embedder the project ships that
 * runs without a model server: the local hashed TF-IDF (the API's embedder when no embedder
 * model is configured) and the simulator's embedder model (sim-embed, what tests and
 * bench:flywheel recall with).
 *
 * For every scenario, every example of a kind whose requests need one step is a source: a
 * reviewer's situation for it (bench/reviewer-coaching.ts, as bench:flywheel writes them),
 * calibrated against up to 200 of the scenario's other requests (the agent's traffic: most
 * in other situations, some in this one, as production's are). Then, over the kind's other
 * requests (should recall) and the other kinds' requests (should not):
 * - true recall = share of the kind's other requests at or above the threshold;
 * - false recall = share of other kinds' requests at or above it.
 * Means over sources, per scenario and embedder, written to bench/results/coaching-calibration.json.
 *
 *   npm run bench:coaching-calibration
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { normalised, dotProduct } from '../coaching/coaching-recall.js';
import { localSituationEmbedder, type SituationEmbedder } from '../coaching/situation-embedder.js';
import { CALIBRATION_SAMPLE, calibrateThreshold } from '../coaching/threshold-calibration.js';
import { DEFAULT_COACHING_THRESHOLD } from '../schemas/coaching.js';
import { loadScenario, type Scenario } from '../test/simulator/scenario.js';
import { SIMULATED_MODELS } from '../test/simulator/simulated-model-names.js';
import { simulateSituation } from '../test/simulator/simulated-coaching.js';
import { simulateEmbedding } from '../test/simulator/simulated-models.js';
import { kindOf, oneStepKind, reviewerSituation } from './reviewer-coaching.js';

const root = path.resolve(import.meta.dirname, '..');
const SCENARIOS = [
  'test/simulator/scenarios/airline.json',
  'bench/scenarios/synthetic-12.json',
  'bench/scenarios/shop-8.json',
  'bench/scenarios/shop-20-rare.json',
];

const simulatorEmbedder: SituationEmbedder = {
  name: `model:${SIMULATED_MODELS.embedder}`,
  embed: (texts) => Promise.resolve(texts.map((t) => simulateEmbedding(t))),
};

/**
 * How the situation is written: `reviewer`, the kind's shared words in the request's order
 * (bench:flywheel's reviewers); `suggested`, the simulated teacher's suggestion, a few of the
 * kind's rarest words ("When a customer asks about reservation, basic, economy, move and
 * flight", `coaching suggest` on the simulator).
 */
type Style = 'reviewer' | 'suggested';
const situationOf = (style: Style, scenario: Scenario, example: Scenario['examples'][number]) =>
  style === 'reviewer'
    ? reviewerSituation(scenario, example)
    : simulateSituation(scenario, example.request).situation;

interface Rates {
  trueRecall: number;
  falseRecall: number;
  /** Share of sources whose own request reaches the threshold. */
  sourceRecalled: number;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
const r3 = (x: number) => Math.round(x * 1000) / 1000;

async function measure(scenario: Scenario, embedder: SituationEmbedder, style: Style) {
  const examples = scenario.examples;
  const requests = await embedder.embed(examples.map((e) => e.request));
  const unit = requests.map((v) => normalised(v));
  const fixed: Rates[] = [];
  const calibrated: Rates[] = [];
  const thresholds: number[] = [];
  const rules = new Map<string, number>();
  for (const [i, example] of examples.entries()) {
    if (!oneStepKind(scenario, example)) continue;
    const kind = kindOf(example);
    const same = examples.flatMap((e, j) => (j !== i && kindOf(e) === kind ? [j] : []));
    if (same.length === 0) continue;
    const other = examples.flatMap((e, j) => (kindOf(e) !== kind ? [j] : []));
    const [v] = await embedder.embed([situationOf(style, scenario, example)]);
    const s = normalised(v!);
    const sim = (j: number) => dotProduct(unit[j]!, 0, s, s.length);
    // The agent's other recent requests: every other example, rotated to start after the
    // source and cut to the sample size (what the store's newest-first read would give).
    const rest = [...examples.keys()].filter((j) => j !== i);
    const sample = [...rest.slice(i), ...rest.slice(0, i)].slice(0, CALIBRATION_SAMPLE);
    const calibration = calibrateThreshold({
      embedder: embedder.name,
      source: sim(i),
      others: sample.map(sim),
    });
    rules.set(calibration.rule, (rules.get(calibration.rule) ?? 0) + 1);
    thresholds.push(calibration.threshold);
    for (const [t, out] of [
      [DEFAULT_COACHING_THRESHOLD, fixed],
      [calibration.threshold, calibrated],
    ] as const)
      out.push({
        trueRecall: mean(same.map((j) => (sim(j) >= t ? 1 : 0))),
        falseRecall: mean(other.map((j) => (sim(j) >= t ? 1 : 0))),
        sourceRecalled: sim(i) >= t ? 1 : 0,
      });
  }
  const summarise = (rates: Rates[]) => ({
    trueRecall: r3(mean(rates.map((r) => r.trueRecall))),
    falseRecall: r3(mean(rates.map((r) => r.falseRecall))),
    sourceRecalled: r3(mean(rates.map((r) => r.sourceRecalled))),
  });
  const sorted = [...thresholds].sort((a, b) => a - b);
  return {
    sources: fixed.length,
    fixed: { threshold: DEFAULT_COACHING_THRESHOLD, ...summarise(fixed) },
    calibrated: {
      thresholdMin: sorted[0] ?? null,
      thresholdMedian: sorted[Math.floor(sorted.length / 2)] ?? null,
      thresholdMax: sorted.at(-1) ?? null,
      rules: Object.fromEntries(rules),
      ...summarise(calibrated),
    },
  };
}

async function main() {
  const embedders = [localSituationEmbedder(), simulatorEmbedder];
  const results: Record<string, Record<string, Record<Style, Awaited<ReturnType<typeof measure>>>>> = {};
  for (const file of SCENARIOS) {
    const scenario = loadScenario(path.join(root, file));
    const perEmbedder: Record<string, Record<Style, Awaited<ReturnType<typeof measure>>>> = {};
    for (const embedder of embedders) {
      const reviewer = await measure(scenario, embedder, 'reviewer');
      const suggested = await measure(scenario, embedder, 'suggested');
      perEmbedder[embedder.name] = { reviewer, suggested };
      for (const [style, m] of [
        ['reviewer', reviewer],
        ['suggested', suggested],
      ] as const)
        console.log(
          `${scenario.name.padEnd(13)} ${embedder.name.padEnd(26)} ${style.padEnd(9)} n=${String(m.sources).padStart(3)}  fixed ${m.fixed.threshold}: true ${m.fixed.trueRecall.toFixed(3)} false ${m.fixed.falseRecall.toFixed(3)} own ${m.fixed.sourceRecalled.toFixed(3)}  calibrated (${m.calibrated.thresholdMin}/${m.calibrated.thresholdMedian}/${m.calibrated.thresholdMax}): true ${m.calibrated.trueRecall.toFixed(3)} false ${m.calibrated.falseRecall.toFixed(3)} own ${m.calibrated.sourceRecalled.toFixed(3)} ${JSON.stringify(m.calibrated.rules)}`,
        );
    }
    results[scenario.name] = perEmbedder;
  }
  const out = {
    note: 'true recall: share of the same kind of request (other than the source) at or above the threshold; false recall: share of other kinds; own: share of sources whose own request reaches it. Means over sources (every example of a one-step kind with another example of its kind).',
    situations:
      "reviewer: bench/reviewer-coaching.ts reviewerSituation (the kind's shared words); suggested: the simulated teacher's situation (simulateSituation)",
    othersSample: CALIBRATION_SAMPLE,
    results,
  };
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    path.join(root, 'bench/results/coaching-calibration.json'),
    JSON.stringify(out, null, 2) + '\n',
  );
  console.log('wrote bench/results/coaching-calibration.json');
}

await main();
