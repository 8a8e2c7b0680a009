import { slackMessage, type SlackMessage } from '../../notify/slack-message.js';
import type { DriftAlert, DriftFinding } from './drift-detector.js';

const METRIC_NAMES: Record<DriftFinding['metric'], string> = {
  judge_fail: 'online failure rate',
  negative_feedback: 'negative feedback rate',
  escalation: 'escalation rate',
  error: 'error rate',
  latency: 'median latency',
  cost: 'median cost',
  input: 'input distribution',
};

function value(f: DriftFinding, v: number): string {
  if (f.metric === 'latency') return `${Math.round(v)} ms`;
  if (f.metric === 'cost') return `$${v.toPrecision(3)}`;
  return `${(100 * v).toFixed(1)} %`;
}

/** One finding as a line a person reads: the slice, what moved, before → after, and the test. */
export function describeFinding(f: DriftFinding): string {
  const what =
    f.test === 'fisher_share'
      ? `share of traffic`
      : f.test === 'chi_square_embedding'
        ? `inputs of one kind (nearest input prototype's share)`
        : METRIC_NAMES[f.metric];
  return (
    `slice ${f.slice}: ${what} ${value(f, f.before)} → ${value(f, f.after)} ` +
    `(${f.referenceCount} → ${f.currentCount} traces, ${f.test} p=${f.pValue.toExponential(2)} ≤ ${f.alpha.toExponential(2)})` +
    (f.sampleTraceIds.length > 0 ? `; e.g. ${f.sampleTraceIds.join(', ')}` : '')
  );
}

/** The webhook notice of a drift alert, with the evidence and the early cycle when one started. */
export function driftAlertMessage(args: {
  agent: string;
  alertId: string;
  alert: DriftAlert;
  cycleId: string | null;
}): SlackMessage {
  const { alert } = args;
  const first = alert.findings[0];
  const headline = first
    ? `${first.slice === 'all' ? '' : `${first.slice}: `}${METRIC_NAMES[first.metric]} rose`
    : 'live traffic changed';
  return slackMessage({
    event: 'drift_alert',
    title: `${args.agent}: drift detected — ${headline}`,
    lines: [
      ...alert.findings.map(describeFinding),
      `reference ${new Date(alert.referenceStartMs).toISOString()} – ${new Date(alert.currentStartMs).toISOString()}, current until ${new Date(alert.atMs).toISOString()}`,
      args.cycleId
        ? `started cycle ${args.cycleId}, sampling the ${alert.driftedTraceIds.length} drifted traces at 100 %`
        : `no cycle started (drift.startCycleOnAlert is off); ${alert.driftedTraceIds.length} drifted traces listed in the alert`,
    ],
    context: `alert ${args.alertId} · ${alert.testsCounted} tests at this check`,
    data: {
      alertId: args.alertId,
      agent: args.agent,
      at: new Date(alert.atMs).toISOString(),
      cycleId: args.cycleId,
      findings: alert.findings,
      driftedTraceIds: alert.driftedTraceIds,
    },
  });
}
