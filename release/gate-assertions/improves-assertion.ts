import type { GateConfig } from '../../schemas/gate-config.js';
import { ciText, f3, notMeasured, type Draft, type GateContext } from './gate-context.js';

/** Shipping an equal prompt is churn: the candidate must gain on the configured dimension. */
export function improvesAssertion(
  ctx: GateContext,
  improvement: NonNullable<GateConfig['requireImprovement']>,
): Draft {
  const d = improvement.dimension;
  const iv = ctx.evalIntervals.get(d);
  if (!iv) return notMeasured(`improves:${d}`, 'improves', d);
  const gain = iv.mean > improvement.minDelta;
  const significant = !improvement.significant || iv.ci[0] > improvement.minDelta;
  return {
    name: `improves:${d}`,
    kind: 'improves',
    dimension: d,
    passed: gain && significant,
    detail: `${d} ${f3(ctx.candMeans[d] ?? 0)} vs production ${f3(ctx.baseMeans[d] ?? 0)}, ${ciText(iv, ctx.config.bootstrap.confidence)}; must gain more than ${f3(improvement.minDelta)}${improvement.significant ? ' with the whole interval above it' : ''}`,
    value: ctx.candMeans[d] ?? null,
    threshold: improvement.minDelta,
    delta: iv.mean,
    ci: iv.ci,
    rests: ctx.rests(d),
  };
}
