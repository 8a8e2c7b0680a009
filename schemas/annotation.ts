import { z } from 'zod';
import { AgentAction } from './trace.js';
import { FailureCategory } from './llm-outputs.js';

/** One reviewer's label for one annotation item. */
export const AnnotationLabel = z.object({
  itemId: z.string().min(1),
  verdict: z.enum(['pass', 'fail']),
  category: FailureCategory.optional(),
  expected: AgentAction.optional(),
  comment: z.string().max(4000).optional(),
  /**
   * Optional per-dimension labels (e.g. `{ "tool_selection": "fail" }`) besides the overall
   * verdict, which stands for task completion; they calibrate the judge's other rubrics.
   */
  dimensions: z
    .record(
      z.string().regex(/^[a-z_]+$/, 'a dimension name such as tool_selection'),
      z.enum(['pass', 'fail']),
    )
    .optional(),
});
export type AnnotationLabel = z.infer<typeof AnnotationLabel>;

/** The file `flywheel annotate` reads and the body of POST /api/cycles/:id/annotations. */
export const AnnotationSubmission = z.object({
  reviewer: z.string().min(1, 'reviewer is required: say who is labelling'),
  labels: z.array(AnnotationLabel).min(1, 'labels is empty: add at least one { itemId, verdict }'),
});
export type AnnotationSubmission = z.infer<typeof AnnotationSubmission>;

/** Signal payload: labels live in Postgres, the workflow only hears that a batch landed. */
export const AnnotationsSubmittedSignal = z.object({
  reviewer: z.string(),
  count: z.number().int().nonnegative(),
  complete: z.boolean(),
});
export type AnnotationsSubmittedSignal = z.infer<typeof AnnotationsSubmittedSignal>;
