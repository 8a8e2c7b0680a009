import { GATE_DIMENSIONS } from '../schemas/gate-config.js';
import type { GateAssertionResult, GateReport } from '../schemas/gate-report.js';
import { EVAL_EXIT, type GateAxis } from '../schemas/gate-eval.js';
import { UserError } from '../schemas/user-error.js';

/*
 * The gate's report as a CI step's verdict: which assertions fail the build (`--fail-on`
 * narrows them to some dimensions), and the exit code: 0 pass, 1 fail, 2 inconclusive.
 */

/** `--fail-on outcome_match,task_completion` → the dimensions; unknown names are a usage error. */
export function parseFailOn(text: string): string[] {
  const dims = [
    ...new Set(
      text
        .split(',')
        .map((d) => d.trim())
        .filter(Boolean),
    ),
  ];
  const unknown = dims.filter((d) => !GATE_DIMENSIONS.includes(d));
  if (dims.length === 0 || unknown.length > 0)
    throw new UserError(
      `--fail-on ${dims.length === 0 ? 'names no dimension' : `names unknown dimension(s) ${unknown.join(', ')}`}: pass a comma-separated list of ${GATE_DIMENSIONS.join(', ')}.`,
    );
  return dims;
}

export const axisOf = (a: GateAssertionResult): GateAxis => ({
  assertion: a.name,
  outcome: a.inconclusive ? 'inconclusive' : 'fail',
  dimension: a.dimension ?? null,
  // The holdout assertion measures another split, not a slice of the eval split.
  slice: a.kind === 'holdout' ? 'holdout split' : (a.slice ?? null),
  detail: a.detail,
});

export interface CiVerdict {
  verdict: 'pass' | 'fail' | 'inconclusive';
  exitCode: 0 | 1 | 2;
  axes: GateAxis[];
  waived: GateAxis[];
}

/**
 * Gating assertions that did not pass decide; with `failOn`, only those on a listed
 * dimension (an assertion on no dimension, such as enough eval examples, always counts).
 * A listed dimension whose assertions the gate only reports (an uncalibrated judge under
 * `uncalibratedJudges: report`) cannot pass the build either: asked to fail on it, the
 * verdict is inconclusive where it did not pass. Failures come first, so the first axis is
 * the one to fix.
 */
export function ciVerdict(report: GateReport, failOn: readonly string[] | null): CiVerdict {
  const open = report.assertions.filter((a) => !a.passed);
  const listed = (a: GateAssertionResult) =>
    failOn !== null && a.dimension !== undefined && failOn.includes(a.dimension);
  const counts = (a: GateAssertionResult) =>
    a.gating === false ? listed(a) : failOn === null || a.dimension === undefined || listed(a);
  const decide = open
    .filter(counts)
    .map((a) => (a.gating === false ? { ...axisOf(a), outcome: 'inconclusive' as const } : axisOf(a)));
  const axes = [
    ...decide.filter((x) => x.outcome === 'fail'),
    ...decide.filter((x) => x.outcome === 'inconclusive'),
  ];
  const verdict = axes.some((x) => x.outcome === 'fail') ? 'fail' : axes.length > 0 ? 'inconclusive' : 'pass';
  return {
    verdict,
    exitCode: EVAL_EXIT[verdict],
    axes,
    waived: open.filter((a) => a.gating !== false && !counts(a)).map(axisOf),
  };
}

/**
 * The verdict in one line: each deciding dimension with the slices it failed on (`all` for
 * the whole eval split), in the report's order, so the first named is the one to fix.
 */
export function verdictHeadline(result: {
  verdict: CiVerdict['verdict'];
  axes: readonly GateAxis[];
}): string {
  if (result.verdict === 'pass' || result.axes.length === 0) return 'PASS';
  const word = result.verdict === 'fail' ? 'FAIL' : 'INCONCLUSIVE';
  const deciding = result.axes.filter((x) => x.outcome === result.verdict);
  const where = new Map<string, Set<string>>();
  for (const x of deciding) {
    const key = x.dimension ?? x.assertion;
    where.set(key, (where.get(key) ?? new Set()).add(x.dimension === null ? '' : (x.slice ?? 'all')));
  }
  const named = [...where].map(([key, slices]) => {
    const list = [...slices].filter(Boolean);
    return list.length ? `${key} [${list.join(', ')}]` : key;
  });
  return `${word} on ${named.join('; ')} (first: ${deciding[0]!.assertion})`;
}
