import type { ActivityDeps } from './activity-deps.js';

export function createReleaseActivities({ db }: ActivityDeps) {
  return {
    /** Every human (or deadline) decision lands in release_decisions and the audit log. */
    async recordReleaseDecision(args: {
      cycleId: string;
      gateReportId: string;
      decision: 'approved' | 'rejected' | 'expired';
      decidedBy: string;
      comment: string | null;
    }): Promise<{ decisionId: string }> {
      const decisionId = `${args.cycleId}:decision`;
      await db.transaction().execute(async (tx) => {
        const inserted = await tx
          .insertInto('release_decisions')
          .values({
            id: decisionId,
            cycle_id: args.cycleId,
            gate_report_id: args.gateReportId,
            decision: args.decision,
            decided_by: args.decidedBy,
            comment: args.comment,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (inserted) {
          await tx
            .insertInto('audit_log')
            .values({
              actor: args.decidedBy,
              action: `release_${args.decision}`,
              artifact: `cycle:${args.cycleId}`,
              detail: JSON.stringify({ gateReportId: args.gateReportId, comment: args.comment }),
            })
            .execute();
        }
      });
      return { decisionId };
    },
  };
}
