import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';

/**
 * release_decisions: one row per cycle (`<cycleId>:decision`), written once. The first
 * decision stands; a later insert for the same cycle (a retried activity) changes nothing.
 */

/** Inserts the decision; true when this call wrote it, false when it was already there. */
export async function insertReleaseDecision(
  db: Kysely<Database>,
  row: {
    id: string;
    cycleId: string;
    gateReportId: string;
    decision: 'approved' | 'rejected' | 'expired';
    decidedBy: string;
    comment: string | null;
  },
): Promise<boolean> {
  const inserted = await db
    .insertInto('release_decisions')
    .values({
      id: row.id,
      cycle_id: row.cycleId,
      gate_report_id: row.gateReportId,
      decision: row.decision,
      decided_by: row.decidedBy,
      comment: row.comment,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}
