import { COMPOSITE_DIMENSION } from '../../schemas/gate-config.js';
import type { GateReport } from '../../schemas/gate-report.js';
import { ciText, f3, type Draft, type GateContext } from './gate-context.js';

/** The headline dimension on the holdout may not drop more than the configured amount. */
export function holdoutAssertion(ctx: GateContext, holdout: NonNullable<GateReport['holdout']>): Draft {
  const d = ctx.composed ? COMPOSITE_DIMENSION : ctx.measured[0];
  if (holdout.examples === 0 || holdout.delta === null || d === undefined) {
    return {
      name: 'holdout',
      kind: 'holdout',
      passed: false,
      detail:
        'no holdout examples in this dataset version, and the gate requires a holdout (holdout.required)',
      value: 0,
      rests: [],
    };
  }
  const passed = holdout.delta >= -holdout.maxDrop;
  return {
    name: 'holdout',
    kind: 'holdout',
    dimension: d,
    passed,
    detail: `${d} on ${holdout.examples} holdout examples ${f3(holdout.candidate[d] ?? 0)} vs production ${f3(holdout.baseline[d] ?? 0)}, ${ciText({ mean: holdout.delta, ci: holdout.ci ?? [holdout.delta, holdout.delta], n: holdout.examples }, ctx.config.bootstrap.confidence)}${passed ? '' : ` — dropped more than ${f3(holdout.maxDrop)}`}`,
    value: holdout.candidate[d] ?? null,
    threshold: -holdout.maxDrop,
    delta: holdout.delta,
    ci: holdout.ci,
    rests: ctx.rests(d),
  };
}
