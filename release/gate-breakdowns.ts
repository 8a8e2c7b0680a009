import type { GateReport, GateSliceRow } from '../schemas/gate-report.js';
import { COMPOSITE_DIMENSION, type GateConfig } from '../schemas/gate-config.js';
import type { MeanInterval } from './paired-bootstrap.js';
import { passAtOne, passHatK } from './pass-at-k.js';
import { minimumDetectableEffect } from './minimum-detectable-effect.js';
import { dimensionMeans, meanOf, pairScores, runsOf, type ExampleScores } from './gate-score-table.js';

/*
 * The tables of a gate report beyond its assertions: every slice, the holdout and pass^k.
 * The decision reads the gated rows; an operator reads them all.
 */

export type IntervalOf = (key: string, deltas: number[]) => MeanInterval | null;

/** Every slice tag of the eval split × every dimension; small slices are shown, not gated. */
export function sliceRows(
  cand: readonly ExampleScores[],
  base: readonly ExampleScores[],
  dims: readonly string[],
  config: GateConfig,
  interval: IntervalOf,
): GateSliceRow[] {
  const tags = [...new Set(cand.filter((e) => e.split === 'eval').flatMap((e) => e.slices))].sort();
  const rows: GateSliceRow[] = [];
  for (const slice of tags)
    for (const d of dims) {
      const p = pairScores(cand, base, d, (e) => e.split === 'eval' && e.slices.includes(slice));
      if (p.deltas.length === 0) continue;
      const iv = interval(`${d}[${slice}]`, p.deltas);
      const gated = p.deltas.length >= config.nonRegression.minSliceExamples;
      rows.push({
        slice,
        dimension: d,
        examples: p.deltas.length,
        candidate: meanOf(p.candidate),
        baseline: meanOf(p.baseline),
        delta: iv?.mean ?? null,
        ci: iv?.ci ?? null,
        minimumDetectableEffect: minimumDetectableEffect(p.baseline, config.bootstrap.confidence),
        gated,
        regressed: gated && iv !== null && iv.ci[1] < -config.nonRegression.tolerance,
      });
    }
  return rows;
}

/** Candidate vs production on the holdout; null when there is none and none is required. */
export function holdoutResult(
  cand: readonly ExampleScores[],
  base: readonly ExampleScores[],
  dims: readonly string[],
  config: GateConfig,
  interval: IntervalOf,
): GateReport['holdout'] {
  const isHoldout = (e: ExampleScores) => e.split === 'holdout';
  const examples = new Set(cand.filter(isHoldout).map((e) => e.id)).size;
  if (examples === 0 && !config.holdout.required) return null;
  const d = dims.includes(COMPOSITE_DIMENSION) ? COMPOSITE_DIMENSION : dims[0];
  const p = d === undefined ? null : pairScores(cand, base, d, isHoldout);
  const iv = p ? interval(`holdout:${d}`, p.deltas) : null;
  return {
    examples,
    candidate: dimensionMeans(cand.filter(isHoldout), dims),
    baseline: dimensionMeans(base.filter(isHoldout), dims),
    delta: iv?.mean ?? null,
    ci: iv?.ci ?? null,
    maxDrop: config.holdout.maxDrop,
    required: config.holdout.required,
  };
}

export function passKRows(
  cand: readonly ExampleScores[],
  base: readonly ExampleScores[],
  config: GateConfig,
  passAt: Readonly<Record<string, number>>,
): NonNullable<GateReport['passK']> {
  return Object.entries(config.repeats).flatMap(([d, k]) => {
    const at = passAt[d] ?? 0.5;
    const c = runsOf(cand, d);
    const b = runsOf(base, d);
    if (c.length === 0 && b.length === 0) return [];
    return [
      {
        dimension: d,
        k,
        passAt: at,
        candidate: { passK: passHatK(c, at), passAt1: passAtOne(c, at) },
        baseline: { passK: passHatK(b, at), passAt1: passAtOne(b, at) },
      },
    ];
  });
}
