import { z } from 'zod';

/** Who may release an agent's prompts, and how many of them must agree. */
export const ApprovalPolicy = z.object({
  /**
   * People allowed to approve or reject a release. Empty means any named approver: fine for
   * a demo; production agents should list their owners.
   */
  approvers: z.array(z.string().trim().min(1)).default([]),
  /** N-person rule: distinct approvals needed before the rollout starts. One rejection ends it. */
  requiredApprovals: z.number().int().min(1).max(10).default(1),
});
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;
