import { slackMessage } from '../notify/slack-message.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import type { AnnotationPolicy } from '../schemas/annotation-policy.js';
import type { ApprovalPolicy } from '../schemas/approval-policy.js';
import { queueProgress } from '../annotation/store/annotation-reads.js';
import { approvalCount, insertApproval } from '../release/store/approval-repository.js';
import { appendAudit } from '../registry/store/audit-log.js';
import type { ActivityDeps } from './activity-deps.js';
import { notifyAgent } from '../notify/agent-notice.js';

export type CycleNotice =
  | 'annotation_requested'
  | 'annotation_reminder'
  | 'annotation_escalation'
  | 'annotation_deadline'
  | 'approval_requested'
  | 'approval_expired';

export function createHumanDecisionActivities(deps: ActivityDeps) {
  const { db } = deps;
  const notify = (args: Parameters<typeof notifyAgent>[1]) => notifyAgent(db, args, deps.webhook);
  return {
    /**
     * The agent's human policies, read once at the start of a cycle and kept in its history:
     * Update validators run synchronously in the workflow and cannot query the database, and
     * a policy edited mid-cycle should not change the rules of a decision already under way.
     */
    async cyclePolicies(args: {
      agent: string;
    }): Promise<{ annotation: AnnotationPolicy; approval: ApprovalPolicy }> {
      const config = await agentConfig(db, args.agent);
      return { annotation: config.annotation, approval: config.approval };
    },

    /**
     * One person's approval or rejection: a row per approver (the N-person rule counts
     * distinct people) and an audit entry, written before the Update returns so the approver's
     * answer is durable when they see it.
     */
    async recordApproval(args: {
      cycleId: string;
      approver: string;
      /**
       * The verified principal (`user:<id>`) of a signed decision, and which key signed it.
       * Absent from cycles that approved before decisions were signed.
       */
      actor?: string;
      signature?: { kid: string; nonce: string; issuedAt: string };
      decision: 'approved' | 'rejected';
      comment: string | null;
      gateReportId: string | null;
    }): Promise<{ approvals: number }> {
      await db.transaction().execute(async (tx) => {
        if (await insertApproval(tx, args))
          await appendAudit(tx, {
            actor: args.actor ?? args.approver,
            action: args.decision === 'approved' ? 'approve_release' : 'reject_release',
            artifact: `cycle:${args.cycleId}`,
            detail: {
              gateReportId: args.gateReportId,
              comment: args.comment,
              ...(args.signature ? { signature: args.signature } : {}),
            },
          });
      });
      return { approvals: await approvalCount(db, args.cycleId) };
    },

    /** A human action outside approvals (rollout promote/pause/resume/abort/setWeight). */
    async recordAudit(args: {
      actor: string;
      action: string;
      artifact: string;
      detail: Record<string, unknown>;
    }) {
      await appendAudit(db, args);
    },

    /**
     * Reminders, escalations and deadlines of the annotation queue, and approval requests,
     * to the agent's Slack-compatible webhook. A reminder names who still has open items.
     */
    async notifyCycle(args: {
      cycleId: string;
      agent: string;
      notice: CycleNotice;
      escalateTo?: string[];
      detail?: string;
    }): Promise<{ delivered: boolean; openReviewers: string[] }> {
      const progress = args.notice.startsWith('annotation') ? await queueProgress(db, args.cycleId) : null;
      const open = (progress?.byReviewer ?? []).filter((r) => r.open > 0);
      const lines: string[] = [];
      if (progress)
        lines.push(
          `${progress.complete}/${progress.total} items complete (quorum ${Math.round(progress.quorum * 100)}%)`,
          ...open.map((r) => `• ${r.reviewer}: ${r.open} open of ${r.assigned} assigned`),
        );
      if (args.notice === 'annotation_escalation' && args.escalateTo?.length)
        lines.push(`Escalated to ${args.escalateTo.join(', ')}`);
      if (args.detail) lines.push(args.detail);
      const titles: Record<CycleNotice, string> = {
        annotation_requested: `Cycle ${args.cycleId} needs reviewers`,
        annotation_reminder: `Reminder: cycle ${args.cycleId} is waiting for reviewers`,
        annotation_escalation: `Escalation: cycle ${args.cycleId} is still waiting for reviewers`,
        annotation_deadline: `Annotation deadline passed for cycle ${args.cycleId}`,
        approval_requested: `Cycle ${args.cycleId} passed its gate and needs approval`,
        approval_expired: `Approval deadline passed for cycle ${args.cycleId}; nothing is released`,
      };
      const action = args.notice.startsWith('annotation')
        ? `flywheel queue show ${args.cycleId}`
        : `flywheel approve ${args.cycleId} --approver <you>`;
      const delivery = await notify({
        agent: args.agent,
        cycleId: args.cycleId,
        message: slackMessage({
          event: args.notice,
          title: titles[args.notice],
          lines,
          context: action,
          data: {
            cycleId: args.cycleId,
            agent: args.agent,
            openReviewers: open.map((r) => r.reviewer),
            ...(args.escalateTo ? { escalateTo: args.escalateTo } : {}),
          },
        }),
      });
      return { delivered: delivery.delivered, openReviewers: open.map((r) => r.reviewer) };
    },
  };
}
