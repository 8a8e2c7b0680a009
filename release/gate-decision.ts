import type { GateAssertionResult, GateReport } from '../schemas/gate-report.js';
import { COMPOSITE_DIMENSION, type GateConfig } from '../schemas/gate-config.js';
import { pairedBootstrap, type MeanInterval } from './paired-bootstrap.js';
import { holdoutResult, passKRows, sliceRows } from './gate-breakdowns.js';
import { passHatK } from './pass-at-k.js';
import { stableHash53 } from '../optimizers/stable-hash.js';
import {
  compositeWeights,
  dimensionMeans,
  measuredDimensions,
  pairScores,
  runsOf,
  withComposite,
  type ExampleScores,
} from './gate-score-table.js';

export type { ExampleScores } from './gate-score-table.js';

export interface GateDecisionInput {
  /** Per-example scores of the candidate on the eval and holdout splits. */
  candidate: readonly ExampleScores[];
  /** The same examples scored for production. */
  baseline: readonly ExampleScores[];
  config: GateConfig;
  /** Judge dimensions whose agreement with reviewers is below the floor, with the reason. */
  uncalibrated?: Readonly<Record<string, string>>;
  /** Score at which one run of a repeated dimension passes (default 0.5, right for 0/1 verdicts). */
  passAt?: Readonly<Record<string, number>>;
  /** Seeds every bootstrap; the same tables, config and seed give the same report. */
  seed: number;
}

/** An assertion while it is built: the dimensions it rests on decide calibration. */
type Draft = GateAssertionResult & { rests: readonly string[] };

const f3 = (x: number) => x.toFixed(3);
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const ciText = (iv: MeanInterval, confidence: number) =>
  `Δ ${signed(iv.mean)} [${Math.round(confidence * 100)}% CI ${signed(iv.ci[0])}, ${signed(iv.ci[1])}]`;

/**
 * Candidate versus production, example by example, on splits the optimizer never saw:
 * enough eval examples; the weighting policy's floors (which no composite gain buys back);
 * the configured mean / pass-rate assertions; non-regression of every dimension and the
 * composite overall and per slice, judged on paired bootstrap intervals so only a clear
 * drop fails; the holdout; and a gain on the primary dimension. Assertions resting on an
 * uncalibrated judge are inconclusive whatever their numbers. Failures are listed first.
 */
export function decideGate(input: GateDecisionInput): GateReport {
  const { config } = input;
  const uncalibrated = input.uncalibrated ?? {};
  const measured = measuredDimensions(input.candidate, input.baseline);
  const weights = compositeWeights(config, measured);
  const composed = Object.keys(weights).length > 0;
  const dims = composed ? [...measured, COMPOSITE_DIMENSION] : measured;
  const cand = withComposite(input.candidate, weights);
  const base = withComposite(input.baseline, weights);
  const isEval = (e: ExampleScores) => e.split === 'eval';
  const candEval = cand.filter(isEval);
  const { resamples, confidence } = config.bootstrap;
  const rests = (d: string) => (d === COMPOSITE_DIMENSION ? Object.keys(weights) : [d]);
  const interval = (key: string, deltas: number[]) =>
    pairedBootstrap(deltas, {
      resamples,
      confidence,
      seed: stableHash53(`gate:${key}`, input.seed) % 2 ** 32,
    });

  // One interval per dimension on the eval split, shared by every assertion that cites it.
  const evalPairs = new Map(dims.map((d) => [d, pairScores(cand, base, d, isEval)]));
  const evalIntervals = new Map(dims.map((d) => [d, interval(d, evalPairs.get(d)!.deltas)]));
  const candMeans = dimensionMeans(candEval, dims);
  const baseMeans = dimensionMeans(base.filter(isEval), dims);

  const drafts: Draft[] = [];
  const calibrationOf = (d: string): Draft => ({
    name: `calibration:${d}`,
    kind: 'calibration',
    dimension: d,
    passed: false,
    inconclusive: true,
    detail: `the ${d} judge cannot gate: ${uncalibrated[d]}`,
    rests: [],
  });
  drafts.push(...Object.keys(uncalibrated).sort().map(calibrationOf));

  const evalExamples = new Set(candEval.map((e) => e.id)).size;
  drafts.push({
    name: 'min_eval_examples',
    kind: 'min_eval_examples',
    passed: evalExamples >= config.minEvalExamples,
    detail: `${evalExamples} eval examples (need ≥ ${config.minEvalExamples})`,
    value: evalExamples,
    threshold: config.minEvalExamples,
    rests: [],
  });

  const notMeasured = (name: string, kind: string, d: string): Draft => ({
    name,
    kind,
    dimension: d,
    passed: false,
    inconclusive: true,
    detail: `${d} was not measured on any eval example`,
    rests: [],
  });

  for (const [d, floor] of Object.entries(config.weighting.floors)) {
    const value = candMeans[d];
    if (value === undefined) {
      drafts.push(notMeasured(`floor:${d}`, 'floor', d));
      continue;
    }
    const passed = value >= floor;
    drafts.push({
      name: `floor:${d}`,
      kind: 'floor',
      dimension: d,
      passed,
      detail: passed
        ? `${d} ${f3(value)} is at or above its floor ${f3(floor)}`
        : `${d} ${f3(value)} is below its floor ${f3(floor)}; a better composite does not buy a floor back`,
      value,
      threshold: floor,
      delta: evalIntervals.get(d)?.mean ?? null,
      ci: evalIntervals.get(d)?.ci ?? null,
      rests: rests(d),
    });
  }

  for (const a of config.assertions) {
    const d = a.dimension;
    if (a.metric === 'mean') {
      const value = candMeans[d];
      if (value === undefined) {
        drafts.push(notMeasured(`threshold:${d}`, 'threshold', d));
        continue;
      }
      const iv = evalIntervals.get(d);
      drafts.push({
        name: `threshold:${d}`,
        kind: 'threshold',
        dimension: d,
        passed: value >= a.threshold,
        detail: `${d} mean ${f3(value)} (need ≥ ${f3(a.threshold)})`,
        value,
        threshold: a.threshold,
        delta: iv?.mean ?? null,
        ci: iv?.ci ?? null,
        rests: rests(d),
      });
      continue;
    }
    // With repeats an example passes only when every run does (pass^k); otherwise pass^1.
    const share = (table: readonly ExampleScores[]) => passHatK(runsOf(table, d), a.threshold);
    const value = share(candEval);
    if (value === null) {
      drafts.push(notMeasured(`pass_rate:${d}`, 'pass_rate', d));
      continue;
    }
    const baseValue = share(base.filter(isEval));
    const k = config.repeats[d];
    const minPassRate = a.minPassRate!;
    drafts.push({
      name: `pass_rate:${d}`,
      kind: 'pass_rate',
      dimension: d,
      passed: value >= minPassRate,
      detail: `${d} ≥ ${f3(a.threshold)} on ${pct(value)} of cases${k && k > 1 ? ` in all ${k} runs (pass^${k})` : ''} (need ≥ ${pct(minPassRate)})`,
      value,
      threshold: minPassRate,
      delta: baseValue === null ? null : value - baseValue,
      rests: rests(d),
    });
  }

  const { tolerance } = config.nonRegression;
  const regressionOf = (
    name: string,
    d: string,
    iv: MeanInterval | null,
    where: string,
    slice?: string,
  ): Draft => {
    if (!iv) return notMeasured(name, 'no_regression', d);
    const passed = iv.ci[1] >= -tolerance;
    return {
      name,
      kind: 'no_regression',
      dimension: d,
      ...(slice === undefined ? {} : { slice }),
      passed,
      detail: `${d}${where} ${ciText(iv, confidence)} vs production on ${iv.n} examples${passed ? '' : `: clearly worse (the whole interval lies below −${f3(tolerance)})`}`,
      delta: iv.mean,
      ci: iv.ci,
      threshold: -tolerance,
      rests: rests(d),
    };
  };
  for (const d of dims) drafts.push(regressionOf(`no_regression:${d}`, d, evalIntervals.get(d)!, ''));

  const slices = sliceRows(cand, base, dims, config, interval);
  if (config.nonRegression.perSlice)
    for (const row of slices.filter((r) => r.gated)) {
      const iv = row.ci && row.delta !== null ? { mean: row.delta, ci: row.ci, n: row.examples } : null;
      drafts.push(
        regressionOf(
          `no_regression:${row.dimension}[${row.slice}]`,
          row.dimension,
          iv,
          ` on slice ${row.slice}`,
          row.slice,
        ),
      );
    }

  const holdout = holdoutResult(cand, base, dims, config, interval);
  if (holdout) {
    const d = composed ? COMPOSITE_DIMENSION : measured[0];
    if (holdout.examples === 0 || holdout.delta === null || d === undefined) {
      drafts.push({
        name: 'holdout',
        kind: 'holdout',
        passed: false,
        detail:
          'no holdout examples in this dataset version, and the gate requires a holdout (holdout.required)',
        value: 0,
        rests: [],
      });
    } else {
      const passed = holdout.delta >= -holdout.maxDrop;
      drafts.push({
        name: 'holdout',
        kind: 'holdout',
        dimension: d,
        passed,
        detail: `${d} on ${holdout.examples} holdout examples ${f3(holdout.candidate[d] ?? 0)} vs production ${f3(holdout.baseline[d] ?? 0)}, ${ciText({ mean: holdout.delta, ci: holdout.ci ?? [holdout.delta, holdout.delta], n: holdout.examples }, confidence)}${passed ? '' : ` — dropped more than ${f3(holdout.maxDrop)}`}`,
        value: holdout.candidate[d] ?? null,
        threshold: -holdout.maxDrop,
        delta: holdout.delta,
        ci: holdout.ci,
        rests: rests(d),
      });
    }
  }

  const improvement = config.requireImprovement;
  if (improvement) {
    const d = improvement.dimension;
    const iv = evalIntervals.get(d);
    if (!iv) drafts.push(notMeasured(`improves:${d}`, 'improves', d));
    else {
      const gain = iv.mean > improvement.minDelta;
      const significant = !improvement.significant || iv.ci[0] > improvement.minDelta;
      drafts.push({
        name: `improves:${d}`,
        kind: 'improves',
        dimension: d,
        passed: gain && significant,
        detail: `${d} ${f3(candMeans[d] ?? 0)} vs production ${f3(baseMeans[d] ?? 0)}, ${ciText(iv, confidence)}; must gain more than ${f3(improvement.minDelta)}${improvement.significant ? ' with the whole interval above it' : ''}`,
        value: candMeans[d] ?? null,
        threshold: improvement.minDelta,
        delta: iv.mean,
        ci: iv.ci,
        rests: rests(d),
      });
    }
  }

  const assertions = finalise(drafts, uncalibrated);
  const failing = assertions.filter((a) => !a.passed && !a.inconclusive);
  const inconclusive = assertions.filter((a) => a.inconclusive);
  const compositeIv = evalIntervals.get(COMPOSITE_DIMENSION) ?? null;
  return {
    version: 2,
    passed: failing.length === 0 && inconclusive.length === 0,
    verdict: failing.length > 0 ? 'fail' : inconclusive.length > 0 ? 'inconclusive' : 'pass',
    failingAssertion: failing[0]?.name ?? inconclusive[0]?.name ?? null,
    assertions: [...failing, ...inconclusive, ...assertions.filter((a) => a.passed)],
    candidate: candMeans,
    baseline: baseMeans,
    evalExamples,
    composite: {
      weights,
      candidate: candMeans[COMPOSITE_DIMENSION] ?? null,
      baseline: baseMeans[COMPOSITE_DIMENSION] ?? null,
      delta: compositeIv?.mean ?? null,
      ci: compositeIv?.ci ?? null,
    },
    slices,
    holdout,
    passK: passKRows(cand.filter(isEval), base.filter(isEval), config, input.passAt ?? {}),
    bootstrap: { resamples, confidence, seed: input.seed },
    config,
  };
}

/** Uniquely named, and inconclusive wherever an uncalibrated judge is involved. */
function finalise(drafts: Draft[], uncalibrated: Readonly<Record<string, string>>): GateAssertionResult[] {
  const seen = new Map<string, number>();
  return drafts.map(({ rests, ...a }) => {
    const n = (seen.get(a.name) ?? 0) + 1;
    seen.set(a.name, n);
    const name = n > 1 ? `${a.name}#${n}` : a.name;
    const judge = rests.find((d) => d in uncalibrated);
    if (judge === undefined) return { ...a, name };
    return {
      ...a,
      name,
      passed: false,
      inconclusive: true,
      detail: `${a.detail} — inconclusive: the ${judge} judge is not calibrated`,
    };
  });
}
