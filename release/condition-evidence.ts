import type { Comparison, Condition } from '../schemas/analysis-condition.js';

/** true / false when the confidence sequence settles it; null while it could still go either way. */
export type Evidence = boolean | null;

export interface Interval {
  low: number;
  high: number;
}

// Rates like 0.1 + 0.05 must compare as written (the same tolerance as evaluateCondition).
const EPS = 1e-9;

/**
 * One comparison `result OP scale·baseline + offset`, read as `θ OP offset` for the contrast
 * θ = result − scale·baseline, judged on θ's confidence sequence: it holds when every θ in the
 * interval satisfies it, fails when none does, and is undecided otherwise.
 */
export function comparisonEvidence(x: Comparison, theta: Interval): Evidence {
  const c = x.offset;
  const outside = c < theta.low - EPS || c > theta.high + EPS;
  switch (x.op) {
    case '<':
      return theta.high < c - EPS ? true : theta.low >= c - EPS ? false : null;
    case '<=':
      return theta.high <= c + EPS ? true : theta.low > c + EPS ? false : null;
    case '>':
      return theta.low > c + EPS ? true : theta.high <= c + EPS ? false : null;
    case '>=':
      return theta.low >= c - EPS ? true : theta.high < c - EPS ? false : null;
    case '==':
      return outside ? false : null;
    case '!=':
      return outside ? true : null;
  }
}

/**
 * A condition (‖ of && clauses) in three-valued (Kleene) logic: a conjunction is false when
 * any part is, a disjunction true when any part is; unknown parts leave it undecided.
 * `intervalFor(scale)` gives the confidence sequence of result − scale·baseline.
 */
export function conditionEvidence(c: Condition, intervalFor: (scale: number) => Interval): Evidence {
  const all = (xs: Evidence[]): Evidence =>
    xs.some((v) => v === false) ? false : xs.every((v) => v === true) ? true : null;
  const any = (xs: Evidence[]): Evidence =>
    xs.some((v) => v === true) ? true : xs.every((v) => v === false) ? false : null;
  return any(c.map((clause) => all(clause.map((x) => comparisonEvidence(x, intervalFor(x.scale))))));
}
