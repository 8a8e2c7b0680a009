import { z } from 'zod';

/** The judge's categories for the skeleton; the versioned taxonomy file comes with diagnosis. */
export const FailureCategory = z.enum([
  'policy_violation',
  'tool_selection',
  'missing_confirmation',
  'escalation',
  'argument_error',
  'other',
]);
export type FailureCategory = z.infer<typeof FailureCategory>;

export const JudgeVerdict = z.object({
  verdict: z.enum(['pass', 'fail']),
  failure_category: FailureCategory.nullable(),
  rationale: z.string(),
});
export type JudgeVerdict = z.infer<typeof JudgeVerdict>;

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
