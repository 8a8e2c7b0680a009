import { appendAudit } from '../registry/store/audit-log.js';
import { insertReleaseDecision } from '../release/store/release-decision-repository.js';
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
        const inserted = await insertReleaseDecision(tx, { id: decisionId, ...args });
        if (inserted) {
          await appendAudit(tx, {
            actor: args.decidedBy,
            action: `release_${args.decision}`,
            artifact: `cycle:${args.cycleId}`,
            detail: { gateReportId: args.gateReportId, comment: args.comment },
          });
        }
      });
      return { decisionId };
    },
  };
}
