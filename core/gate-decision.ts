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
}

export interface GateReport {
  passed: boolean;
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
): GateReport {
  const assertions: GateAssertion[] = [];
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
  const failing = assertions.filter((a) => !a.passed);
  return {
    passed: failing.length === 0,
    failingAssertion: failing[0]?.name ?? null,
    assertions: [...failing, ...assertions.filter((a) => a.passed)],
    candidate,
    baseline,
    evalExamples,
  };
}
