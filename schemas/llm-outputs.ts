import { z } from 'zod';
import { FailureCategory } from './failure-category.js';

/** The judge's categories are the one list reviewers label with (schemas/failure-category.ts). */
export { FailureCategory };

export const PromptProposals = z.object({
  candidates: z.array(z.object({ prompt: z.string().min(1), rationale: z.string() })).min(1),
});
export type PromptProposals = z.infer<typeof PromptProposals>;

/** ProTeGi critiques ("gradients"). */
export const Critiques = z.object({ reasons: z.array(z.string().min(1)).min(1) });
/** Several complete texts: edits and paraphrases. */
export const PromptTexts = z.object({ prompts: z.array(z.string().min(1)).min(1) });
/** One new text: GEPA reflection, MIPRO instruction proposal. */
export const NewInstruction = z.object({ instruction: z.string().min(1) });
export const DatasetObservations = z.object({ observations: z.string().min(1) });

/** A binary rubric's answer (the six trajectory dimensions). */
export const BinaryJudgement = z.object({
  verdict: z.enum(['pass', 'fail', 'not_applicable']),
  failure_category: FailureCategory.nullable(),
  /** Index of the first failing agent step, as numbered in the request. */
  failing_step: z.number().int().nonnegative().nullable(),
  rationale: z.string().min(1),
});
export type BinaryJudgement = z.infer<typeof BinaryJudgement>;

/** A 1–5 rubric's answer (the four-dimension trace score). */
export const LikertJudgement = z.object({
  score: z.number().int().min(1).max(5),
  rationale: z.string().min(1),
});
export type LikertJudgement = z.infer<typeof LikertJudgement>;

/** The teacher's diagnosis of one failure cluster, checked against the taxonomy after parsing. */
export const ClusterDiagnosis = z.object({
  category: z.string().min(1),
  subtype: z.string().min(1),
  root_cause: z.string().min(1),
  failing_step: z.object({
    step: z.number().int().nonnegative().nullable(),
    span_id: z.string().nullable(),
    description: z.string().min(1),
  }),
  evidence_trace_ids: z.array(z.string().min(1)).min(1),
  intervention: z.enum(['prompt', 'tool', 'context', 'fine_tune', 'rl']),
  immediate_fix: z.string().min(1),
});
export type ClusterDiagnosis = z.infer<typeof ClusterDiagnosis>;
