import type { GateConfig } from '../../schemas/gate-config.js';
import { ciText, f3, notMeasured, type Draft, type GateContext } from './gate-context.js';

/**
 * Whether the improvement must clear the interval: always, never, or (`auto`) once the eval
 * split is large enough for an interval to separate a real gain from noise.
 */
export function intervalRequired(
  improvement: NonNullable<GateConfig['requireImprovement']>,
  examples: number,
): boolean {
  if (improvement.significant === 'auto') return examples >= improvement.intervalFromExamples;
  return improvement.significant;
}

/** Shipping an equal prompt is churn: the candidate must gain on the configured dimension. */
export function improvesAssertion(
  ctx: GateContext,
  improvement: NonNullable<GateConfig['requireImprovement']>,
): Draft {
  const d = improvement.dimension;
  const iv = ctx.evalIntervals.get(d);
  if (!iv) return notMeasured(`improves:${d}`, 'improves', d);
  const byInterval = intervalRequired(improvement, iv.n);
  const gain = iv.mean > improvement.minDelta;
  const significant = !byInterval || iv.ci[0] > improvement.minDelta;
  const mde = ctx.minimumDetectableEffect[d];
  const rule = byInterval
    ? ' with the whole interval above it'
    : improvement.significant === 'auto'
      ? ` (the interval decides from ${improvement.intervalFromExamples} eval examples; ${iv.n} here)`
      : '';
  return {
    name: `improves:${d}`,
    kind: 'improves',
    dimension: d,
    passed: gain && significant,
    detail:
      `${d} ${f3(ctx.candMeans[d] ?? 0)} vs production ${f3(ctx.baseMeans[d] ?? 0)}, ` +
      `${ciText(iv, ctx.config.bootstrap.confidence)}; must gain more than ${f3(improvement.minDelta)}${rule}` +
      (mde === null || mde === undefined ? '' : `; minimum detectable effect at n=${iv.n}: ${f3(mde)}`),
    value: ctx.candMeans[d] ?? null,
    threshold: improvement.minDelta,
    delta: iv.mean,
    ci: iv.ci,
    rests: ctx.rests(d),
  };
}
