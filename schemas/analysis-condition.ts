import { UserError } from './user-error.js';

/**
 * Success and failure conditions of a rollout analysis, written the way Argo Rollouts users
 * write them — `result <= baseline + 0.05` — but parsed into a tiny safe grammar instead of
 * evaluated as code: comparisons of `result` against a number or `baseline` (± or × a
 * number), joined by `&&` or `||` (`&&` binds tighter; no parentheses).
 */
export type Comparator = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface Comparison {
  op: Comparator;
  /** The right-hand side: `baseline * scale + offset`, or a constant when scale is 0. */
  scale: number;
  offset: number;
}

/** Disjunction of conjunctions. */
export type Condition = Comparison[][];

const NUMBER = String.raw`[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?`;
const RHS = new RegExp(
  String.raw`^(?:(${NUMBER})|baseline(?:\s*([+\-*])\s*(${NUMBER}))?|(${NUMBER})\s*\*\s*baseline)$`,
  'i',
);
const COMPARISON = /^result\s*(<=|>=|==|!=|<|>)\s*(.+)$/;

export class ConditionSyntaxError extends UserError {
  override name = 'ConditionSyntaxError';
}

function parseComparison(text: string, whole: string): Comparison {
  const m = COMPARISON.exec(text.trim());
  if (!m)
    throw new ConditionSyntaxError(
      `"${whole}": "${text.trim()}" is not a comparison; write e.g. "result <= 0.05" or "result >= baseline - 0.02"`,
    );
  const rhs = RHS.exec(m[2]!.trim());
  if (!rhs)
    throw new ConditionSyntaxError(
      `"${whole}": the right side "${m[2]!.trim()}" must be a number, "baseline", "baseline + N", "baseline - N" or "baseline * N"`,
    );
  const op = m[1] as Comparator;
  if (rhs[1] !== undefined) return { op, scale: 0, offset: Number(rhs[1]) };
  if (rhs[4] !== undefined) return { op, scale: Number(rhs[4]), offset: 0 };
  const n = rhs[3] === undefined ? 0 : Number(rhs[3]);
  if (rhs[2] === '*') return { op, scale: n, offset: 0 };
  return { op, scale: 1, offset: rhs[2] === '-' ? -n : n };
}

export function parseCondition(text: string): Condition {
  if (!text.trim()) throw new ConditionSyntaxError('a condition cannot be empty');
  return text.split('||').map((clause) => clause.split('&&').map((c) => parseComparison(c, text)));
}

/** True when the condition refers to the baseline (it then needs baseline traffic). */
export const usesBaseline = (c: Condition) => c.some((all) => all.some((x) => x.scale !== 0));

export function evaluateCondition(c: Condition, result: number, baseline: number | null): boolean | null {
  if (baseline === null && usesBaseline(c)) return null;
  const holds = (x: Comparison) => {
    const rhs = x.scale === 0 ? x.offset : (baseline ?? 0) * x.scale + x.offset;
    // Rates like 0.1 + 0.05 must compare as written, not as 0.15000000000000002.
    const eps = 1e-9;
    switch (x.op) {
      case '<':
        return result < rhs - eps;
      case '<=':
        return result <= rhs + eps;
      case '>':
        return result > rhs + eps;
      case '>=':
        return result >= rhs - eps;
      case '==':
        return Math.abs(result - rhs) <= eps;
      case '!=':
        return Math.abs(result - rhs) > eps;
    }
  };
  return c.some((all) => all.every(holds));
}
