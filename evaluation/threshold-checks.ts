import type { ThresholdConfig } from '../schemas/code-evaluator-config.js';
import { codeEvaluation, type Evaluation, type Finding } from '../schemas/evaluation.js';
import type { TraceRecord } from '../schemas/trace.js';
import { agentActions } from './agent-trajectory.js';

export const LATENCY_THRESHOLD = 'latency_threshold';
export const COST_THRESHOLD = 'cost_threshold';

/** The trace's duration: its own figure, else its timestamps, else its slowest span. */
export function traceLatencyMs(trace: TraceRecord): number | null {
  if (trace.latencyMs !== undefined) return trace.latencyMs;
  if (trace.endTimestamp !== undefined) {
    return Math.max(0, Date.parse(trace.endTimestamp) - Date.parse(trace.timestamp));
  }
  return trace.spans.length > 0 ? Math.max(...trace.spans.map((s) => s.latencyMs)) : null;
}

/** The trace's cost: its own figure, else the sum over spans that report one. */
export function traceCostUsd(trace: TraceRecord): number | null {
  if (trace.costUsd !== undefined) return trace.costUsd;
  const costs = trace.spans.flatMap((s) => (s.costUsd !== undefined ? [s.costUsd] : []));
  return costs.length > 0 ? costs.reduce((a, b) => a + b, 0) : null;
}

/** Within the limit scores 1; over it, limit / value — twice the budget scores 0.5. */
function ratio(limit: number, value: number): number {
  return value <= limit ? 1 : limit / value;
}

/**
 * Latency against `maxLatencyMs` (the whole trace) and `maxSpanLatencyMs` (each span).
 * The score is the worst ratio; null when neither limit is set or nothing is measured.
 */
export function latencyThreshold(trace: TraceRecord, thresholds: ThresholdConfig): Evaluation | null {
  const findings: Finding[] = [];
  const scores: number[] = [];
  const parts: string[] = [];
  const total = traceLatencyMs(trace);
  if (thresholds.maxLatencyMs !== undefined && total !== null) {
    scores.push(ratio(thresholds.maxLatencyMs, total));
    parts.push(`the trace took ${total} ms (limit ${thresholds.maxLatencyMs} ms)`);
    if (total > thresholds.maxLatencyMs) {
      findings.push({
        kind: 'latency_exceeded',
        step: null,
        detail: `the trace took ${total} ms, over the ${thresholds.maxLatencyMs} ms limit`,
      });
    }
  }
  const spanLimit = thresholds.maxSpanLatencyMs;
  if (spanLimit !== undefined && trace.spans.length > 0) {
    const stepOf = new Map(agentActions(trace).flatMap((s) => (s.spanId ? [[s.spanId, s.step]] : [])));
    const slow = trace.spans.filter((s) => s.latencyMs > spanLimit);
    const slowest = Math.max(...trace.spans.map((s) => s.latencyMs));
    scores.push(ratio(spanLimit, slowest));
    parts.push(`${slow.length} of ${trace.spans.length} spans over ${spanLimit} ms`);
    for (const s of slow) {
      findings.push({
        kind: 'slow_span',
        step: stepOf.get(s.spanId) ?? null,
        spanId: s.spanId,
        detail: `${s.kind} span ${JSON.stringify(s.name)} took ${s.latencyMs} ms, over the ${spanLimit} ms limit`,
      });
    }
  }
  if (scores.length === 0) return null;
  return codeEvaluation({
    evaluator: LATENCY_THRESHOLD,
    dimension: 'latency',
    score: Math.min(...scores),
    label: findings.length === 0 ? 'pass' : 'fail',
    explanation: parts.join('; '),
    category: findings[0]?.kind ?? null,
    findings,
  });
}

/** Cost against `maxCostUsd`; null when no limit is set or the trace reports no cost. */
export function costThreshold(trace: TraceRecord, thresholds: ThresholdConfig): Evaluation | null {
  const limit = thresholds.maxCostUsd;
  const cost = traceCostUsd(trace);
  if (limit === undefined || cost === null) return null;
  const over = cost > limit;
  return codeEvaluation({
    evaluator: COST_THRESHOLD,
    dimension: 'cost',
    score: ratio(limit, cost),
    label: over ? 'fail' : 'pass',
    explanation: `the trace cost $${cost.toFixed(4)} (limit $${limit.toFixed(4)})`,
    category: over ? 'cost_exceeded' : null,
    findings: over
      ? [
          {
            kind: 'cost_exceeded',
            step: null,
            detail: `$${cost.toFixed(4)} spent, over the $${limit.toFixed(4)} limit`,
          },
        ]
      : [],
  });
}
