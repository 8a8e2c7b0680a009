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

export const ApprovalResult = z.object({ decision: z.enum(['approved', 'rejected']), decidedBy: z.string() });
export type ApprovalResult = z.infer<typeof ApprovalResult>;
