import type { GateSliceRow } from '../../schemas/gate-report.js';
import type { MeanInterval } from '../paired-bootstrap.js';
import { ciText, f3, notMeasured, type Draft, type GateContext } from './gate-context.js';

/**
 * Non-regression of one dimension, overall or on a slice, judged on its paired bootstrap
 * interval so that only a clear drop fails.
 */
export function noRegressionAssertion(
  ctx: GateContext,
  name: string,
  d: string,
  iv: MeanInterval | null | undefined,
  where: string,
  slice?: string,
): Draft {
  if (!iv) return notMeasured(name, 'no_regression', d);
  const { tolerance } = ctx.config.nonRegression;
  const passed = iv.ci[1] >= -tolerance;
  return {
    name,
    kind: 'no_regression',
    dimension: d,
    ...(slice === undefined ? {} : { slice }),
    passed,
    detail: `${d}${where} ${ciText(iv, ctx.config.bootstrap.confidence)} vs production on ${iv.n} examples${passed ? '' : `: clearly worse (the whole interval lies below −${f3(tolerance)})`}`,
    delta: iv.mean,
    ci: iv.ci,
    threshold: -tolerance,
    rests: ctx.rests(d),
  };
}

/** Non-regression on a slice large enough to gate. */
export function sliceRegressionAssertion(ctx: GateContext, row: GateSliceRow): Draft {
  const iv = row.ci && row.delta !== null ? { mean: row.delta, ci: row.ci, n: row.examples } : null;
  return noRegressionAssertion(
    ctx,
    `no_regression:${row.dimension}[${row.slice}]`,
    row.dimension,
    iv,
    ` on slice ${row.slice}`,
    row.slice,
  );
}
