import { z } from 'zod';

export const ApproveRequest = z.object({
  approver: z.string().trim().min(1, 'approver is required'),
  comment: z.string().max(4000).optional(),
});
export type ApproveRequest = z.infer<typeof ApproveRequest>;

export const RejectRequest = z.object({
  approver: z.string().trim().min(1, 'approver is required'),
  reason: z.string().trim().min(1, 'a rejection needs a reason'),
});
export type RejectRequest = z.infer<typeof RejectRequest>;

/**
 * `pending`: this approval counted, but the agent's N-person rule needs more approvers.
 * `decidedBy` lists everyone whose answer made the decision.
 */
export const ApprovalResult = z.object({
  decision: z.enum(['approved', 'rejected', 'pending']),
  decidedBy: z.string(),
  approvals: z.number().int().nonnegative(),
  required: z.number().int().positive(),
});
export type ApprovalResult = z.infer<typeof ApprovalResult>;
