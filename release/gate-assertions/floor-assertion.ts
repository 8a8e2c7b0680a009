import { f3, notMeasured, type Draft, type GateContext } from './gate-context.js';

/** A weighting policy's floor: the candidate's mean on `d`, which no composite gain buys back. */
export function floorAssertion(ctx: GateContext, d: string, floor: number): Draft {
  const value = ctx.candMeans[d];
  if (value === undefined) return notMeasured(`floor:${d}`, 'floor', d);
  const passed = value >= floor;
  return {
    name: `floor:${d}`,
    kind: 'floor',
    dimension: d,
    passed,
    detail: passed
      ? `${d} ${f3(value)} is at or above its floor ${f3(floor)}`
      : `${d} ${f3(value)} is below its floor ${f3(floor)}; a better composite does not buy a floor back`,
    value,
    threshold: floor,
    delta: ctx.evalIntervals.get(d)?.mean ?? null,
    ci: ctx.evalIntervals.get(d)?.ci ?? null,
    rests: ctx.rests(d),
  };
}
