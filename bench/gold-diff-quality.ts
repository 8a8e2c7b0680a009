/**
 * bench:gold-diff — how well the gold-action diff labels tau-bench failures.
 *
 * Runs the diff on the 200 gpt-4o airline trajectories and compares its finding kinds with
 * hand labels of a documented sample of the failures (bench/fixtures/tau-bench-failure-
 * labels.json, protocol in bench/fixtures/README-gold-diff.md): precision, recall and
 * support per failure type. Also counts each kind over all 116 failures and over the 84
 * passes — a finding on a passing trajectory is a false alarm against tau-bench's reward —
 * for the default configuration and with unasked-for handoffs reported.
 *
 *   npm run bench:gold-diff
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { GOLD_DIFF_KINDS, goldActionDiff } from '../evaluation/gold-action-diff.js';
import { tauBenchToTraces } from '../traces/tau-bench-import.js';
import { GoldActionDiffConfig } from '../schemas/code-evaluator-config.js';
import type { TraceRecord } from '../schemas/trace.js';
import { sharedDataset } from '../scripts/shared-datasets.js';

const root = path.resolve(import.meta.dirname, '..');
const LABEL_TYPES = [...GOLD_DIFF_KINDS, 'none_in_actions'] as const;
type LabelType = (typeof LABEL_TYPES)[number];

const LabelFile = z.object({
  source: z.string(),
  protocol: z.string(),
  sample: z.string(),
  labels: z
    .array(
      z.object({
        id: z.string().min(1),
        taskId: z.number().int().nonnegative(),
        trial: z.number().int().nonnegative(),
        types: z.array(z.enum(LABEL_TYPES)).min(1),
        note: z.string().min(1),
      }),
    )
    .min(1),
});

const labelFile = LabelFile.parse(
  JSON.parse(readFileSync(path.join(root, 'bench/fixtures/tau-bench-failure-labels.json'), 'utf8')),
);
const { traces, errors } = tauBenchToTraces(
  JSON.parse(readFileSync(sharedDataset('tau_bench/historical_trajectories/gpt-4o-airline.json'), 'utf8')),
  { agent: 'airline', source: 'gpt-4o-airline', baseTime: '2024-05-15T15:00:00Z', model: 'gpt-4o' },
);
if (errors.length > 0) throw new Error(`the tau-bench import reported errors: ${JSON.stringify(errors)}`);
/**
 * A second, independent annotator's labels of another sample (every failed trial 2), made
 * without seeing the evaluator or the first labels: a check that the first labels were not
 * shaped by the evaluator's design. Its protocol counts a substituted tool as wrong_tool
 * and also missing_action (+ extra_action when the substitute succeeded).
 */
const IndependentFile = z.object({
  annotator: z.string(),
  protocol: z.string(),
  labels: z.array(
    z.object({
      task_id: z.number().int().nonnegative(),
      trial: z.number().int().nonnegative(),
      types: z.array(z.enum(LABEL_TYPES)).min(1),
      note: z.string(),
    }),
  ),
});
const independent = IndependentFile.parse(
  JSON.parse(
    readFileSync(path.join(root, 'bench/fixtures/tau-bench-failure-labels-independent.json'), 'utf8'),
  ),
).labels.map((l) => ({
  id: `tau-bench:gpt-4o-airline:${l.task_id}:${l.trial}`,
  types: l.types,
  note: l.note,
}));
const byId = new Map(traces.map((t) => [t.id, t]));
for (const label of [...labelFile.labels, ...independent]) {
  const trace = byId.get(label.id);
  if (trace === undefined) throw new Error(`hand label ${label.id} names no imported trajectory`);
  if (trace.reward !== 0) throw new Error(`hand label ${label.id} is on a passing trajectory`);
}

/** The label types the diff assigns: its finding kinds, or `none_in_actions` when it passes. */
function predictedTypes(trace: TraceRecord, config: GoldActionDiffConfig): Set<LabelType> {
  const evaluation = goldActionDiff(trace, config);
  if (evaluation === null) throw new Error(`${trace.id} has no gold actions`);
  const kinds = new Set(evaluation.findings.map((f) => f.kind as LabelType));
  return kinds.size === 0 ? new Set(['none_in_actions']) : kinds;
}

interface TypeQuality {
  support: number;
  predicted: number;
  truePositives: number;
  precision: number | null;
  recall: number | null;
}

function measure(
  config: GoldActionDiffConfig,
  labels: readonly { id: string; types: readonly LabelType[]; note: string }[] = labelFile.labels,
) {
  const predicted = new Map(traces.map((t) => [t.id, predictedTypes(t, config)]));
  const perType = {} as Record<LabelType, TypeQuality>;
  for (const type of LABEL_TYPES) {
    let support = 0;
    let predictedCount = 0;
    let truePositives = 0;
    for (const label of labels) {
      const hand = label.types.includes(type);
      const auto = predicted.get(label.id)!.has(type);
      if (hand) support++;
      if (auto) predictedCount++;
      if (hand && auto) truePositives++;
    }
    perType[type] = {
      support,
      predicted: predictedCount,
      truePositives,
      precision: predictedCount === 0 ? null : truePositives / predictedCount,
      recall: support === 0 ? null : truePositives / support,
    };
  }
  const exactSets = labels.filter((l) => {
    const auto = predicted.get(l.id)!;
    return auto.size === l.types.length && l.types.every((t) => auto.has(t));
  }).length;
  const countOver = (reward: number) => {
    const group = traces.filter((t) => t.reward === reward);
    const counts = Object.fromEntries(
      LABEL_TYPES.map((type) => [type, group.filter((t) => predicted.get(t.id)!.has(type)).length]),
    ) as Record<LabelType, number>;
    return { trajectories: group.length, flagged: group.length - counts.none_in_actions, ...counts };
  };
  const disagreements = labels.flatMap((l) => {
    const auto = [...predicted.get(l.id)!].sort();
    const hand = [...l.types].sort();
    return JSON.stringify(auto) === JSON.stringify(hand)
      ? []
      : [{ id: l.id, hand, diff: auto, note: l.note }];
  });
  const flaggedPasses = traces
    .filter((t) => t.reward === 1 && !predicted.get(t.id)!.has('none_in_actions'))
    .map((t) => ({ id: t.id, kinds: [...predicted.get(t.id)!].sort() }));
  return {
    perType,
    exactSets,
    failures: countOver(0),
    passes: countOver(1),
    disagreements,
    flaggedPasses,
  };
}

const defaults = GoldActionDiffConfig.parse({});
const variants = {
  default: defaults,
  flagExtraHandoffs: GoldActionDiffConfig.parse({ flagExtraHandoffs: true }),
};
const results: Record<string, ReturnType<typeof measure>> = Object.fromEntries(
  Object.entries(variants).map(([name, config]) => [name, measure(config)]),
);
results.independentAnnotator = measure(defaults, independent);

const pct = (x: number | null) => (x === null ? '   -  ' : `${(100 * x).toFixed(1).padStart(5)}%`);
for (const [name, r] of Object.entries(results)) {
  const n = name === 'independentAnnotator' ? independent.length : labelFile.labels.length;
  console.log(`\n== ${name} (${n} hand-labelled failures) ==`);
  console.log('type              support  flagged  precision  recall');
  for (const type of LABEL_TYPES) {
    const q = r.perType[type];
    console.log(
      `${type.padEnd(17)} ${String(q.support).padStart(7)} ${String(q.predicted).padStart(8)}    ${pct(q.precision)}  ${pct(q.recall)}`,
    );
  }
  console.log(`identical label sets: ${r.exactSets} of ${n}`);
  console.log('\ntrajectories with each label      failures (116)  passes (84)');
  for (const type of [...LABEL_TYPES, 'flagged'] as const) {
    console.log(
      `${type.padEnd(33)} ${String(r.failures[type]).padStart(14)} ${String(r.passes[type]).padStart(12)}`,
    );
  }
}

mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(
  path.join(root, 'bench/results/gold-diff.json'),
  `${JSON.stringify(
    {
      benchmark: 'gold-diff',
      dataset: labelFile.source,
      sample: labelFile.sample,
      labelled: labelFile.labels.length,
      config: defaults,
      results,
    },
    null,
    2,
  )}\n`,
);
console.log('\nwrote bench/results/gold-diff.json');
