import type { GateAssertionResult, GateReport } from '../schemas/gate-report.js';
import { COMPOSITE_DIMENSION, type GateConfig } from '../schemas/gate-config.js';
import { pairedBootstrap, type MeanInterval } from './paired-bootstrap.js';
import { minimumDetectableEffect } from './minimum-detectable-effect.js';
import { holdoutResult, passKRows, sliceRows } from './gate-breakdowns.js';
import { stableHash53 } from '../optimizers/stable-hash.js';
import {
  compositeWeights,
  dimensionMeans,
  measuredDimensions,
  pairScores,
  withComposite,
  type ExampleScores,
} from './gate-score-table.js';
import { calibrationAssertions } from './gate-assertions/calibration-assertions.js';
import type { Draft, GateContext } from './gate-assertions/gate-context.js';
import { floorAssertion } from './gate-assertions/floor-assertion.js';
import { holdoutAssertion } from './gate-assertions/holdout-assertion.js';
import { improvesAssertion } from './gate-assertions/improves-assertion.js';
import { minEvalExamplesAssertion } from './gate-assertions/min-eval-examples-assertion.js';
import {
  noRegressionAssertion,
  sliceRegressionAssertion,
} from './gate-assertions/no-regression-assertion.js';
import { passRateAssertion } from './gate-assertions/pass-rate-assertion.js';
import { thresholdAssertion } from './gate-assertions/threshold-assertion.js';

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
  /**
   * The eval examples the candidate can change at all, when that is known to be fewer than
   * all (a coaching set gated on the production prompt acts only where a conversation
   * recalls it; elsewhere both arms answer the same request). The gain and the overall
   * non-regression of every dimension are judged on them, so neither a fix nor a harm is
   * diluted by examples the change cannot reach, and the gain must clear its interval there
   * (unless `significant` is false) whatever the scope's size. Floors, slices, the holdout
   * and the configured assertions still read every example. Absent: the whole split.
   */
  improvementScope?: {
    ids: ReadonlySet<string>;
    /** What makes them reachable, as a clause after "the eval examples that …". */
    what: string;
  };
}

/**
 * Candidate versus production, example by example, on splits the optimizer never saw:
 * enough eval examples; the weighting policy's floors (which no composite gain buys back);
 * the configured mean / pass-rate assertions; non-regression of every dimension and the
 * composite overall and per slice, judged on paired bootstrap intervals so only a clear
 * drop fails; the holdout; and a gain on the primary dimension. Assertions resting on an
 * uncalibrated judge are inconclusive whatever their numbers. Failures are listed first.
 * Each kind of assertion is built in its own module (gate-assertions/); this only routes.
 */
export function decideGate(input: GateDecisionInput): GateReport {
  const { config } = input;
  const uncalibrated = input.uncalibrated ?? {};
  const measured = measuredDimensions(input.candidate, input.baseline);
  // Under `report`, the composite is made of trusted dimensions only.
  const reportOnly = config.uncalibratedJudges === 'report';
  const weights = compositeWeights(
    config,
    reportOnly ? measured.filter((d) => !(d in uncalibrated)) : measured,
  );
  const composed = Object.keys(weights).length > 0;
  const dims = composed ? [...measured, COMPOSITE_DIMENSION] : measured;
  const cand = withComposite(input.candidate, weights);
  const base = withComposite(input.baseline, weights);
  const isEval = (e: ExampleScores) => e.split === 'eval';
  const candEval = cand.filter(isEval);
  const baseEval = base.filter(isEval);
  const { resamples, confidence } = config.bootstrap;
  const interval = (key: string, deltas: number[]) =>
    pairedBootstrap(deltas, {
      resamples,
      confidence,
      seed: stableHash53(`gate:${key}`, input.seed) % 2 ** 32,
    });
  const evalPairs = new Map(dims.map((d) => [d, pairScores(cand, base, d, isEval)]));
  const evalIntervals = new Map(dims.map((d) => [d, interval(d, evalPairs.get(d)!.deltas)]));
  const mde = Object.fromEntries(
    dims.map((d) => [d, minimumDetectableEffect(evalPairs.get(d)!.baseline, confidence)]),
  );
  const ctx: GateContext = {
    config,
    uncalibrated,
    measured,
    composed,
    candEval,
    baseEval,
    candMeans: dimensionMeans(candEval, dims),
    baseMeans: dimensionMeans(baseEval, dims),
    evalExamples: new Set(candEval.map((e) => e.id)).size,
    evalIntervals,
    minimumDetectableEffect: mde,
    rests: (d) => (d === COMPOSITE_DIMENSION ? Object.keys(weights) : [d]),
  };
  const slices = sliceRows(cand, base, dims, config, interval);
  const holdout = holdoutResult(cand, base, dims, config, interval);

  const drafts: Draft[] = [
    ...calibrationAssertions(ctx),
    minEvalExamplesAssertion(ctx),
    ...Object.entries(config.weighting.floors).map(([d, floor]) => floorAssertion(ctx, d, floor)),
    ...config.assertions.map((a) =>
      a.metric === 'mean' ? thresholdAssertion(ctx, a) : passRateAssertion(ctx, a),
    ),
    ...dims.map((d) =>
      input.improvementScope
        ? scopedNoRegression(ctx, d, input.improvementScope, cand, base, interval)
        : noRegressionAssertion(ctx, `no_regression:${d}`, d, evalIntervals.get(d), ''),
    ),
    ...(config.nonRegression.perSlice
      ? slices.filter((r) => r.gated).map((row) => sliceRegressionAssertion(ctx, row))
      : []),
    ...(holdout ? [holdoutAssertion(ctx, holdout)] : []),
    ...(config.requireImprovement
      ? [
          input.improvementScope
            ? scopedImprovement(ctx, config.requireImprovement, input.improvementScope, cand, base, interval)
            : improvesAssertion(ctx, config.requireImprovement),
        ]
      : []),
  ];

  const assertions = finalise(drafts, uncalibrated, config.uncalibratedJudges);
  const gating = assertions.filter((a) => a.gating !== false);
  const failing = gating.filter((a) => !a.passed && !a.inconclusive);
  const inconclusive = gating.filter((a) => a.inconclusive);
  const { candMeans, baseMeans, evalExamples } = ctx;
  const compositeIv = evalIntervals.get(COMPOSITE_DIMENSION) ?? null;
  return {
    version: 2,
    passed: failing.length === 0 && inconclusive.length === 0,
    verdict: failing.length > 0 ? 'fail' : inconclusive.length > 0 ? 'inconclusive' : 'pass',
    failingAssertion: failing[0]?.name ?? inconclusive[0]?.name ?? null,
    assertions: [
      ...failing,
      ...inconclusive,
      ...gating.filter((a) => a.passed),
      ...assertions.filter((a) => a.gating === false),
    ],
    candidate: candMeans,
    baseline: baseMeans,
    evalExamples,
    minimumDetectableEffect: mde,
    composite: {
      weights,
      candidate: candMeans[COMPOSITE_DIMENSION] ?? null,
      baseline: baseMeans[COMPOSITE_DIMENSION] ?? null,
      delta: compositeIv?.mean ?? null,
      ci: compositeIv?.ci ?? null,
    },
    slices,
    holdout,
    passK: passKRows(candEval, baseEval, config, input.passAt ?? {}),
    bootstrap: { resamples, confidence, seed: input.seed },
    config,
  };
}

/**
 * Uniquely named; wherever an uncalibrated judge is involved, inconclusive or (under
 * `report`) kept for information outside the verdict.
 */
function finalise(
  drafts: Draft[],
  uncalibrated: Readonly<Record<string, string>>,
  policy: GateConfig['uncalibratedJudges'],
): GateAssertionResult[] {
  const seen = new Map<string, number>();
  return drafts.map(({ rests, ...a }) => {
    const n = (seen.get(a.name) ?? 0) + 1;
    seen.set(a.name, n);
    const name = n > 1 ? `${a.name}#${n}` : a.name;
    const judge = a.kind === 'calibration' ? a.dimension : rests.find((d) => d in uncalibrated);
    if (judge === undefined) return { ...a, name };
    // The improvement must be measured by something trusted, whatever the policy.
    if (policy === 'report' && a.kind !== 'improves')
      return a.kind === 'calibration'
        ? { ...a, name, gating: false, detail: `${a.detail}; its assertions are reported, not gating` }
        : {
            ...a,
            name,
            gating: false,
            detail: `${a.detail} — not gating: the ${judge} judge is not calibrated`,
          };
    if (a.kind === 'calibration') return { ...a, name };
    return {
      ...a,
      name,
      passed: false,
      inconclusive: true,
      detail: `${a.detail} — inconclusive: the ${judge} judge is not calibrated`,
    };
  });
}

/** The gain judged on the examples the candidate can change only (see `improvementScope`). */
function scopedImprovement(
  ctx: GateContext,
  improvement: NonNullable<GateConfig['requireImprovement']>,
  scope: NonNullable<GateDecisionInput['improvementScope']>,
  cand: readonly ExampleScores[],
  base: readonly ExampleScores[],
  interval: (key: string, deltas: number[]) => MeanInterval | null,
): Draft {
  const d = improvement.dimension;
  const inScope = (e: ExampleScores) => e.split === 'eval' && scope.ids.has(e.id);
  const candEval = cand.filter(inScope);
  const baseEval = base.filter(inScope);
  if (candEval.length === 0)
    return {
      name: `improves:${d}`,
      kind: 'improves',
      dimension: d,
      passed: false,
      inconclusive: true,
      detail: `no eval example ${scope.what}, so there is no gain to measure: the approver decides, and the staged rollout measures it live`,
      rests: ctx.rests(d),
    };
  const pairs = pairScores(cand, base, d, inScope);
  // On a scope the interval always decides: a handful of examples is exactly where a point
  // gain is noise, and the rest of the split (unchanged by construction) cannot vouch for it.
  const draft = improvesAssertion(
    {
      ...ctx,
      candEval,
      baseEval,
      candMeans: dimensionMeans(candEval, [d]),
      baseMeans: dimensionMeans(baseEval, [d]),
      evalExamples: candEval.length,
      evalIntervals: new Map([[d, interval(`improves-scope:${d}`, pairs.deltas)]]),
      minimumDetectableEffect: {
        [d]: minimumDetectableEffect(pairs.baseline, ctx.config.bootstrap.confidence),
      },
    },
    { ...improvement, significant: improvement.significant !== false },
  );
  return {
    ...draft,
    detail: `on the ${candEval.length} eval examples that ${scope.what}: ${draft.detail}`,
  };
}

/** Non-regression of one dimension on the examples the candidate can change only. */
function scopedNoRegression(
  ctx: GateContext,
  d: string,
  scope: NonNullable<GateDecisionInput['improvementScope']>,
  cand: readonly ExampleScores[],
  base: readonly ExampleScores[],
  interval: (key: string, deltas: number[]) => MeanInterval | null,
): Draft {
  const inScope = (e: ExampleScores) => e.split === 'eval' && scope.ids.has(e.id);
  const name = `no_regression:${d}`;
  // Nothing in scope: the candidate answers every eval example as production does.
  if (!cand.some(inScope)) return noRegressionAssertion(ctx, name, d, ctx.evalIntervals.get(d), '');
  const iv = interval(`no-regression-scope:${d}`, pairScores(cand, base, d, inScope).deltas);
  return noRegressionAssertion(ctx, name, d, iv, ` on the eval examples that ${scope.what},`);
}
