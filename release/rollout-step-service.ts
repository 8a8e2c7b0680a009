import type { Db } from '../db/connection.js';
import { rolloutStepRecords } from './store/rollout-step-records.js';
import { rolloutIdFor } from './rollout-service.js';
import type { Measurement, MeasurementPhase } from './rollout-analysis.js';

/** What a replay or shadow step stored (activities/rollout-replay.ts writes it). */
export interface SameInputResult {
  phase: MeasurementPhase;
  candidatePassRate: number | null;
  baselinePassRate: number | null;
  traces: number;
  reason: string;
}

/** One measured round of a rollout step, as the console and the API show it. */
export interface RolloutStepResult {
  stepIndex: number;
  round: number;
  /** The candidate's traffic share while it was measured. */
  weight: number;
  kind: 'analysis' | 'replay' | 'shadow';
  /** successful | failed | inconclusive */
  verdict: string;
  measuredAt: Date;
  /** `analysis`: per-metric measurements; `replay`/`shadow`: the same-input comparison. */
  result: Measurement | SameInputResult;
}

/**
 * What a rollout measured so far (analysis rounds, replay and shadow comparisons), read from
 * Postgres: the workflow's status query carries only the last verdict. `id` is the rollout's
 * workflow ID or its cycle's ID, as for the rollout's other routes.
 */
export async function rolloutStepResults(db: Db, id: string): Promise<RolloutStepResult[]> {
  const rows = await rolloutStepRecords(db, rolloutIdFor(id));
  return rows.map((row) => ({
    stepIndex: row.step_index,
    round: row.round,
    weight: row.weight,
    kind: row.kind as RolloutStepResult['kind'],
    verdict: row.verdict,
    measuredAt: row.created_at,
    result: row.metrics as RolloutStepResult['result'],
  }));
}
