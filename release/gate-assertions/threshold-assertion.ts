import type { GateConfig } from '../../schemas/gate-config.js';
import { f3, notMeasured, type Draft, type GateContext } from './gate-context.js';

/** A configured `mean` assertion: the candidate's mean on the eval split. */
export function thresholdAssertion(ctx: GateContext, a: GateConfig['assertions'][number]): Draft {
  const d = a.dimension;
  const value = ctx.candMeans[d];
  if (value === undefined) return notMeasured(`threshold:${d}`, 'threshold', d);
  const iv = ctx.evalIntervals.get(d);
  return {
    name: `threshold:${d}`,
    kind: 'threshold',
    dimension: d,
    passed: value >= a.threshold,
    detail: `${d} mean ${f3(value)} (need ≥ ${f3(a.threshold)})`,
    value,
    threshold: a.threshold,
    delta: iv?.mean ?? null,
    ci: iv?.ci ?? null,
    rests: ctx.rests(d),
  };
}
