import type { DriftAlertView } from '../../../evaluation/drift-alert-service.js';
import type { OnlineEvaluationStatus } from '../../../evaluation/online-evaluation-service.js';
import type { Json } from './types.js';

type OnlineRun = Json<OnlineEvaluationStatus>['runs'][number];
type DriftFinding = Json<DriftAlertView>['findings'][number];

/** Figures the online evaluation page derives from the API's answer; pure, so unit tests read them. */

/**
 * The online pass rate over the given runs: the share of the traces they scored that no
 * evaluator failed; null when they scored none.
 */
export function onlinePassRate(runs: readonly Pick<OnlineRun, 'scored' | 'failing'>[]): {
  rate: number | null;
  scored: number;
  failing: number;
} {
  const scored = runs.reduce((n, r) => n + r.scored, 0);
  const failing = runs.reduce((n, r) => n + r.failing, 0);
  return { rate: scored > 0 ? (scored - failing) / scored : null, scored, failing };
}

/** Today's spend as a share of the daily cap (0..1, more when a run overshot); null without a cap. */
export function capShare(spentUsd: number, capUsd: number): number | null {
  return capUsd > 0 ? spentUsd / capUsd : null;
}

const METRIC_WORDS: Record<string, string> = {
  judge_fail: 'online failure rate',
  negative_feedback: 'negative feedback rate',
  escalation: 'escalation rate',
  error: 'error rate',
  latency: 'median latency',
  cost: 'median cost',
  input: 'input distribution',
};

/** What a finding says moved, in the words of the drift alert's notice (evaluation/drift/drift-alert-message.ts). */
export function findingWhat(f: Pick<DriftFinding, 'metric' | 'test'>): string {
  if (f.test === 'fisher_share') return 'share of traffic';
  if (f.test === 'chi_square_embedding') return "inputs of one kind (nearest input prototype's share)";
  return METRIC_WORDS[f.metric] ?? f.metric.replace(/_/g, ' ');
}

/** A finding's before or after value as its metric reads: a rate, milliseconds or dollars. */
export function findingValue(metric: string, value: number): string {
  if (metric === 'latency') return `${Math.round(value)} ms`;
  if (metric === 'cost') return `$${value.toFixed(4)}`;
  return `${(value * 100).toFixed(1)}%`;
}
