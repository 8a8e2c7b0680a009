import { z } from 'zod';

/**
 * Feedback or a business outcome attached after the fact, to one trace or to every trace
 * of a session (a refund issued, a ticket reopened, a thumbs-down in the UI).
 */
export const FeedbackInput = z
  .object({
    traceId: z.string().min(1).optional(),
    sessionId: z.string().min(1).optional(),
    score: z.union([z.literal(-1), z.literal(0), z.literal(1)]).optional(),
    text: z.string().max(10_000).optional(),
    outcome: z.enum(['success', 'failure', 'escalated', 'error']).optional(),
    reward: z.number().min(0).max(1).optional(),
    /** Business attributes merged into the trace's attributes (e.g. refund_amount). */
    attributes: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((f) => (f.traceId === undefined) !== (f.sessionId === undefined), {
    message: 'give exactly one of traceId or sessionId',
  })
  .refine(
    (f) =>
      f.score !== undefined ||
      f.text !== undefined ||
      f.outcome !== undefined ||
      f.reward !== undefined ||
      f.attributes !== undefined,
    { message: 'give at least one of score, text, outcome, reward or attributes' },
  );
export type FeedbackInput = z.infer<typeof FeedbackInput>;
