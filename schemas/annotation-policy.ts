import { z } from 'zod';

const ReviewerName = z.string().trim().min(1, 'a reviewer name cannot be empty');

/**
 * Who reviews an agent's annotation queue and what the cycle does when reviewers are late.
 * Durations (claim expiry, reminders, escalation, the deadline) come from the cycle input so
 * tests can shrink them; the policy says who and what, not when.
 */
export const AnnotationPolicy = z.object({
  /** Reviewers items are assigned to, round-robin. Empty: anyone may claim any item. */
  reviewers: z.array(ReviewerName).default([]),
  /** Distinct reviewers whose labels complete one item (inter-annotator agreement needs ≥ 2). */
  reviewersPerItem: z.number().int().min(1).max(10).default(1),
  /** Share of the queue's items that must be complete before the cycle proceeds. */
  quorum: z.number().gt(0).max(1).default(1),
  /** Who hears about escalations (in the webhook text), e.g. the team lead. */
  escalateTo: z.array(ReviewerName).default([]),
  /**
   * At the deadline: `proceed_on_judge` continues with the reviewers' labels so far and the
   * judge's for the rest; `stop_cycle` ends the cycle with outcome `annotation_expired`.
   */
  onDeadline: z.enum(['proceed_on_judge', 'stop_cycle']).default('proceed_on_judge'),
  /**
   * Share of the queue kept for sampled traces the judge passed. Judge calibration needs
   * both classes: on a queue of failures only, the judge says "fail" to all of them, and
   * Cohen's κ is 0 by construction as soon as one reviewer label differs, so the judge could
   * never earn the right to gate. Those labels also make the eval split represent passing
   * traffic, not only failures.
   */
  calibrationShare: z
    .number()
    .min(0, 'calibrationShare must be between 0 and 1')
    .max(1, 'calibrationShare must be between 0 and 1')
    .default(0.25),
});
export type AnnotationPolicy = z.infer<typeof AnnotationPolicy>;
