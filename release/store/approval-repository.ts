import type { Db } from '../../db/connection.js';

/**
 * approvals: one row per (cycle, approver). The N-person rule counts distinct people, so a
 * second answer from the same person is ignored rather than counted again; the first one
 * stands.
 */

/** Stores an approver's answer; returns false when they had already answered for this cycle. */
export async function insertApproval(
  db: Db,
  approval: { cycleId: string; approver: string; decision: 'approved' | 'rejected'; comment: string | null },
): Promise<boolean> {
  const inserted = await db
    .insertInto('approvals')
    .values({
      cycle_id: approval.cycleId,
      approver: approval.approver,
      decision: approval.decision,
      comment: approval.comment,
    })
    .onConflict((oc) => oc.columns(['cycle_id', 'approver']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** How many distinct people approved the cycle. */
export async function approvalCount(db: Db, cycleId: string): Promise<number> {
  const { n } = await db
    .selectFrom('approvals')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('cycle_id', '=', cycleId)
    .where('decision', '=', 'approved')
    .executeTakeFirstOrThrow();
  return Number(n);
}
