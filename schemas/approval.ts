import { z } from 'zod';

/** What an approver says with an approval; who approves comes from the signed decision. */
export const ApproveArgs = z.object({ comment: z.string().max(4000).optional() });
export type ApproveArgs = z.infer<typeof ApproveArgs>;

export const RejectArgs = z.object({
  reason: z.string().trim().min(1, 'a rejection needs a reason').max(4000),
});
export type RejectArgs = z.infer<typeof RejectArgs>;

/**
 * The approve and reject Updates' argument before decisions were signed: a free-text
 * approver. Validators refuse it now; it stays readable because histories recorded before
 * then carry it and replay through the same handler.
 */
export const ApproveRequest = ApproveArgs.extend({
  approver: z.string().trim().min(1, 'approver is required'),
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
