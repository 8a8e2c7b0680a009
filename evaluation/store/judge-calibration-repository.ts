import type { Db } from '../../db/connection.js';
import type { DimensionCalibration } from '../judge-calibration.js';

/**
 * Judge agreement with the reviewers, one row per (cycle, dimension): a recalibration in
 * the same cycle replaces the row, so the newest measurement is the one that gates.
 */

export async function saveJudgeCalibration(
  db: Db,
  cycleId: string,
  agent: string,
  c: DimensionCalibration,
): Promise<void> {
  const row = {
    agent_id: agent,
    labels: c.labels,
    accuracy: c.accuracy,
    kappa: c.kappa,
    f1: c.f1,
    can_gate: c.canGate,
    reason: c.reason,
  };
  await db
    .insertInto('judge_calibrations')
    .values({ cycle_id: cycleId, dimension: c.dimension, ...row })
    .onConflict((oc) => oc.columns(['cycle_id', 'dimension']).doUpdateSet(row))
    .execute();
}

/** A cycle's judge calibrations, by dimension. */
export async function cycleCalibrations(db: Db, cycleId: string) {
  return db
    .selectFrom('judge_calibrations')
    .selectAll()
    .where('cycle_id', '=', cycleId)
    .orderBy('dimension')
    .execute();
}

/**
 * Whether this cycle's judge calibrations let each dimension gate a release, as the gate
 * reads them. A dimension missing from the answer was not calibrated this cycle.
 */
export function gateCalibrations(db: Db, cycleId: string, dimensions: readonly string[]) {
  return db
    .selectFrom('judge_calibrations')
    .select(['dimension', 'can_gate', 'reason'])
    .where('cycle_id', '=', cycleId)
    .where('dimension', 'in', [...dimensions])
    .execute();
}

/**
 * The newest calibration of each of an agent's judge dimensions, whichever cycle measured
 * it: what a gate run outside a cycle (`flywheel eval`) trusts its judges on.
 */
export function latestCalibrations(db: Db, agent: string, dimensions: readonly string[]) {
  return db
    .selectFrom('judge_calibrations')
    .distinctOn('dimension')
    .select(['dimension', 'can_gate', 'reason', 'cycle_id', 'created_at'])
    .where('agent_id', '=', agent)
    .where('dimension', 'in', [...dimensions])
    .orderBy('dimension')
    .orderBy('created_at', 'desc')
    .execute();
}
