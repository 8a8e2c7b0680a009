import { z } from 'zod';
import { AgentAction } from './trace.js';
import { FAILURE_CATEGORIES, failureCategoryOf } from './failure-category.js';
import { ScoreValue } from './score-config.js';

export const ReviewerName = z.string().trim().min(1, 'reviewer is required: say who is labelling');

/**
 * A reviewer's failure category: one of the failure categories, or a finer name the
 * evaluators and the taxonomy use (`wrong_tool`), stored as the category it maps to.
 */
export const AnnotationCategory = z.preprocess(
  (v) => (typeof v === 'string' ? (failureCategoryOf(v) ?? v) : v),
  z.enum(
    FAILURE_CATEGORIES,
    `category must be one of ${FAILURE_CATEGORIES.join(', ')} (finer names such as wrong_tool or missed_escalation are accepted and mapped to these)`,
  ),
);

/** A slice a reviewer flags an item with (e.g. `adversarial`); the dataset example carries it. */
export const SliceName = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/,
    'a slice is a name such as adversarial: letters, digits, "_", ".", ":" or "-", at most 64 characters',
  );

/** Slices as a list, or as one comma-separated string; duplicates dropped, in name order. */
export const SliceFlags = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').filter((s) => s.trim() !== '') : v),
  z
    .array(SliceName)
    .max(20, 'at most 20 slices per label')
    .transform((list) => [...new Set(list)].sort()),
);

/** What a reviewer says about one item, wherever it arrives from (single call or batch). */
export const AnnotationBody = z.object({
  verdict: z.enum(['pass', 'fail'], 'verdict must be "pass" or "fail"'),
  /** The corrected failure category (null or absent: none). */
  category: AnnotationCategory.nullish(),
  /** The step the agent should have taken: becomes the dataset example's expectation. */
  expected: AgentAction.optional(),
  /** A blank comment (as the queue template writes it) is no comment. */
  comment: z
    .string()
    .max(4000)
    .transform((c) => (c.trim() === '' ? undefined : c))
    .optional(),
  /** Slices this item belongs to (e.g. `adversarial`): they land on its dataset example. */
  slices: SliceFlags.optional(),
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
  /** Values per score config name of the queue; each is checked against its config. */
  scores: z.record(z.string(), ScoreValue).optional(),
});
export type AnnotationBody = z.infer<typeof AnnotationBody>;

/** One reviewer's label for one annotation item, as a batch entry. */
export const AnnotationLabel = AnnotationBody.extend({ itemId: z.string().min(1) });
export type AnnotationLabel = z.infer<typeof AnnotationLabel>;

/** Body of POST /api/items/:id/annotations and of `flywheel annotate <itemId>`. */
export const ItemAnnotationRequest = AnnotationBody.extend({ reviewer: ReviewerName });
export type ItemAnnotationRequest = z.infer<typeof ItemAnnotationRequest>;

/** Body of POST /api/items/:id/claim and /release. */
export const ClaimRequest = z.object({ reviewer: ReviewerName });
export type ClaimRequest = z.infer<typeof ClaimRequest>;

/** The file `flywheel annotate --file` reads and the body of the batch routes. */
export const AnnotationSubmission = z.object({
  reviewer: ReviewerName,
  labels: z.array(AnnotationLabel).min(1, 'labels is empty: add at least one { itemId, verdict }'),
});
export type AnnotationSubmission = z.infer<typeof AnnotationSubmission>;

/**
 * The batch envelope: entries are checked one by one, so a malformed entry is reported by
 * index and the valid ones next to it are still stored.
 */
export const AnnotationBatch = z.object({
  reviewer: ReviewerName,
  labels: z.array(z.unknown()).min(1, 'labels is empty: add at least one { itemId, verdict }'),
});
export type AnnotationBatch = z.infer<typeof AnnotationBatch>;

/** Signal payload: labels live in Postgres, the workflow only hears that a batch landed. */
export const AnnotationsSubmittedSignal = z.object({
  reviewer: z.string(),
  count: z.number().int().nonnegative(),
  complete: z.boolean(),
});
export type AnnotationsSubmittedSignal = z.infer<typeof AnnotationsSubmittedSignal>;
