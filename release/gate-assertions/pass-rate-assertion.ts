import type { GateConfig } from '../../schemas/gate-config.js';
import { passHatK } from '../pass-at-k.js';
import { runsOf, type ExampleScores } from '../gate-score-table.js';
import { f3, notMeasured, pct, type Draft, type GateContext } from './gate-context.js';

/** A configured `pass_rate` assertion: the share of eval cases reaching the threshold. */
export function passRateAssertion(ctx: GateContext, a: GateConfig['assertions'][number]): Draft {
  const d = a.dimension;
  // With repeats an example passes only when every run does (pass^k); otherwise pass^1.
  const share = (table: readonly ExampleScores[]) => passHatK(runsOf(table, d), a.threshold);
  const value = share(ctx.candEval);
  if (value === null) return notMeasured(`pass_rate:${d}`, 'pass_rate', d);
  const baseValue = share(ctx.baseEval);
  const k = ctx.config.repeats[d];
  const minPassRate = a.minPassRate!;
  return {
    name: `pass_rate:${d}`,
    kind: 'pass_rate',
    dimension: d,
    passed: value >= minPassRate,
    detail: `${d} ≥ ${f3(a.threshold)} on ${pct(value)} of cases${k && k > 1 ? ` in all ${k} runs (pass^${k})` : ''} (need ≥ ${pct(minPassRate)})`,
    value,
    threshold: minPassRate,
    delta: baseValue === null ? null : value - baseValue,
    rests: ctx.rests(d),
  };
}
