import { deriveSlices } from '../../datasets/example-slices.js';
import type { DriftObservation } from './drift-detector.js';

/** What the drift check reads of one stored trace. */
export interface DriftTraceRow {
  id: string;
  started_at: Date;
  attributes: unknown;
  feedback: number | null;
  outcome: string | null;
  status: string;
  latency_ms: number | null;
  cost_usd: number | null;
  /** Online evaluation's scores of the trace: how many, and how many failed. */
  online_scores: number;
  online_failures: number;
}

/**
 * A stored trace as the detector sees it: its slices as datasets tag them, whether online
 * evaluation failed it (unset when it was not scored), negative feedback, escalation, error,
 * latency, cost, and its input's embedding when one was computed. Escalation and error read
 * the same columns as the sampling strata, so "escalated" means one thing everywhere.
 */
export function driftObservation(row: DriftTraceRow, embedding?: readonly number[]): DriftObservation {
  return {
    traceId: row.id,
    timeMs: row.started_at.getTime(),
    slices: deriveSlices({ attributes: row.attributes }),
    ...(row.online_scores > 0 ? { judgePass: row.online_failures === 0 } : {}),
    negativeFeedback: row.feedback !== null && row.feedback < 0,
    escalated: row.outcome === 'escalated',
    error: row.status === 'error' || row.outcome === 'error',
    ...(row.latency_ms === null ? {} : { latencyMs: row.latency_ms }),
    ...(row.cost_usd === null ? {} : { costUsd: row.cost_usd }),
    ...(embedding ? { embedding } : {}),
  };
}

/** Scales a vector to unit length (the detector compares inputs by dot product). */
export function unitVector(v: readonly number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm > 0 ? v.map((x) => x / norm) : [...v];
}
