export interface DimensionScores {
  /** Mean score per dimension on the eval split. */
  [dimension: string]: number;
}

export interface GateConfig {
  thresholds: Record<string, number>;
  maxRegression: number;
  minEvalExamples: number;
}

export interface GateAssertion {
  name: string;
  passed: boolean;
  detail: string;
  /**
   * Neither passed nor failed: it rests on a judge dimension whose agreement with reviewers
   * is below the floor, so its number cannot be trusted either way.
   */
  inconclusive?: boolean;
}

export interface GateReport {
  /** True only when every assertion passed conclusively. */
  passed: boolean;
  /** `inconclusive`: nothing failed, but some assertion rests on an uncalibrated judge. */
  verdict: 'pass' | 'fail' | 'inconclusive';
  /** The first failing assertion, named so an operator knows why without reading the table. */
  failingAssertion: string | null;
  assertions: GateAssertion[];
  candidate: DimensionScores;
  baseline: DimensionScores;
  evalExamples: number;
}

const fmt = (x: number) => x.toFixed(3);

/**
 * Candidate versus production on held-out examples: enough examples, each configured
 * dimension at or above its threshold, no dimension worse than production by more than
 * the tolerance, and a strict gain on the primary (first) dimension — shipping an equal
 * prompt is churn, not improvement. Failing assertions are listed first.
 */
export function decideGate(
  candidate: DimensionScores,
  baseline: DimensionScores,
  evalExamples: number,
  config: GateConfig,
  /** Judge dimensions that may not gate (calibration below the floor), with the reason. */
  uncalibrated: Readonly<Record<string, string>> = {},
): GateReport {
  const assertions: GateAssertion[] = [];
  for (const [dimension, reason] of Object.entries(uncalibrated).sort()) {
    assertions.push({
      name: `calibration:${dimension}`,
      passed: false,
      inconclusive: true,
      detail: `the ${dimension} judge cannot gate: ${reason}`,
    });
  }
  assertions.push({
    name: 'min_eval_examples',
    passed: evalExamples >= config.minEvalExamples,
    detail: `${evalExamples} eval examples (need ≥ ${config.minEvalExamples})`,
  });
  for (const [dimension, threshold] of Object.entries(config.thresholds)) {
    const value = candidate[dimension];
    assertions.push({
      name: `threshold:${dimension}`,
      passed: value !== undefined && value >= threshold,
      detail:
        value === undefined
          ? `${dimension} was not measured`
          : `${dimension} ${fmt(value)} (need ≥ ${fmt(threshold)})`,
    });
  }
  for (const dimension of Object.keys(baseline).sort()) {
    const base = baseline[dimension] ?? 0;
    const cand = candidate[dimension];
    assertions.push({
      name: `no_regression:${dimension}`,
      passed: cand !== undefined && cand >= base - config.maxRegression,
      detail: `${dimension} ${cand === undefined ? 'missing' : fmt(cand)} vs production ${fmt(base)} (tolerance ${fmt(config.maxRegression)})`,
    });
  }
  const primary = Object.keys(config.thresholds)[0];
  if (primary !== undefined) {
    const cand = candidate[primary] ?? 0;
    const base = baseline[primary] ?? 0;
    assertions.push({
      name: `improves:${primary}`,
      passed: cand > base,
      detail: `${primary} ${fmt(cand)} must beat production ${fmt(base)}`,
    });
  }
  // Every assertion on an uncalibrated dimension is inconclusive, whatever its number says.
  for (const a of assertions) {
    const dimension = a.name.split(':')[1];
    if (dimension !== undefined && dimension in uncalibrated && !a.name.startsWith('calibration:')) {
      a.inconclusive = true;
      a.passed = false;
      a.detail += ' — inconclusive: judge not calibrated';
    }
  }
  const failing = assertions.filter((a) => !a.passed && !a.inconclusive);
  const inconclusive = assertions.filter((a) => a.inconclusive);
  return {
    passed: failing.length === 0 && inconclusive.length === 0,
    verdict: failing.length > 0 ? 'fail' : inconclusive.length > 0 ? 'inconclusive' : 'pass',
    failingAssertion: failing[0]?.name ?? inconclusive[0]?.name ?? null,
    assertions: [...failing, ...inconclusive, ...assertions.filter((a) => a.passed)],
    candidate,
    baseline,
    evalExamples,
  };
}
