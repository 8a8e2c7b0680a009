import type { Db } from '../../db/connection.js';
import type { GateReportRow } from '../../db/database.js';
import type { GateReport } from '../../schemas/gate-report.js';

/**
 * gate_reports: one report per cycle (`<cycleId>:gate`), written once. A retried gate reads
 * the stored report instead of judging again; a second insert for the same ID changes nothing.
 */

export function gateReportById(db: Db, id: string) {
  return db.selectFrom('gate_reports').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertGateReport(
  db: Db,
  row: {
    id: string;
    cycleId: string;
    candidateId: string;
    baselineVersionId: string;
    candidateVersionId: string | null;
    report: GateReport;
  },
): Promise<void> {
  await db
    .insertInto('gate_reports')
    .values({
      id: row.id,
      cycle_id: row.cycleId,
      candidate_id: row.candidateId,
      baseline_version_id: row.baselineVersionId,
      candidate_version_id: row.candidateVersionId,
      passed: row.report.passed,
      failing_assertion: row.report.failingAssertion,
      report: JSON.stringify(row.report),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** The cycle's gate report, or undefined before the gate ran. */
export async function gateReportOfCycle(db: Db, cycleId: string): Promise<GateReportRow | undefined> {
  return db.selectFrom('gate_reports').selectAll().where('cycle_id', '=', cycleId).executeTakeFirst();
}
