import { z } from 'zod';

/**
 * The one list of failure categories. The judge answers with one (`failure_category`),
 * reviewers label with one (an annotation's `category`), annotation items and the queue
 * template show one, and scenario rules name one. Other vocabularies name failures more
 * finely: the code evaluators' finding kinds (`wrong_tool`), the diagnosis taxonomy's
 * subtypes (`missed_escalation`) and the judge rubrics' dimensions. `CATEGORY_ALIASES` maps
 * each of those names to one category here, and `failureCategoryOf` is the only place that
 * translates, so a name the template writes is always one `annotate` accepts.
 */
export const FAILURE_CATEGORIES = [
  'policy_violation',
  'tool_selection',
  'missing_confirmation',
  'escalation',
  'argument_error',
  'other',
] as const;
export const FailureCategory = z.enum(FAILURE_CATEGORIES);
export type FailureCategory = z.infer<typeof FailureCategory>;

/**
 * Finer names and the category each belongs to. Covered (unit-tested): every finding kind
 * of the built-in code evaluators, every subtype of taxonomy/failure-taxonomy.jsonl and the
 * judge rubric dimensions that name a failure. Failures none of the specific categories
 * describe (infrastructure, context, retrieval, memory, most planning) are `other`.
 */
export const CATEGORY_ALIASES: Readonly<Record<string, FailureCategory>> = {
  // Code evaluators' finding kinds (evaluation/).
  wrong_tool: 'tool_selection',
  missing_action: 'tool_selection',
  extra_action: 'tool_selection',
  unknown_tool: 'tool_selection',
  wrong_arguments: 'argument_error',
  invalid_arguments: 'argument_error',
  precondition_violated: 'other',
  assertion_failed: 'other',
  invalid_assertion: 'other',
  latency_exceeded: 'other',
  slow_span: 'other',
  cost_exceeded: 'other',
  // Taxonomy subtypes (taxonomy/failure-taxonomy.jsonl) not named above.
  timeout: 'other',
  rate_limited: 'other',
  tool_unavailable: 'other',
  malformed_model_output: 'other',
  missing_context: 'other',
  stale_context: 'other',
  context_overflow: 'other',
  missing_tool_call: 'tool_selection',
  unnecessary_tool_call: 'tool_selection',
  irrelevant_documents: 'other',
  missing_documents: 'other',
  ignored_retrieval: 'other',
  forgot_earlier_turn: 'other',
  contradicts_earlier_turn: 'other',
  missing_precondition: 'other',
  wrong_order: 'other',
  incomplete_task: 'other',
  error_not_recovered: 'other',
  missed_escalation: 'escalation',
  unnecessary_escalation: 'escalation',
  unsafe_disclosure: 'policy_violation',
  // Judge rubric dimensions a failing Likert score names (llm/rubric-judge.ts).
  argument_extraction: 'argument_error',
  privacy_safety: 'policy_violation',
};

/** The category a name stands for: itself when canonical, else its alias; undefined when unknown. */
export function failureCategoryOf(name: string): FailureCategory | undefined {
  const key = name.trim();
  const canonical = FailureCategory.safeParse(key);
  if (canonical.success) return canonical.data;
  return Object.hasOwn(CATEGORY_ALIASES, key) ? CATEGORY_ALIASES[key] : undefined;
}

/**
 * What to show a reviewer for a verdict's category: the category it maps to, `other` for a
 * name no list knows (a custom evaluator's finding kind), nothing when there is none.
 */
export function displayedCategory(name: string | null | undefined): FailureCategory | undefined {
  if (name == null || name.trim() === '') return undefined;
  return failureCategoryOf(name) ?? 'other';
}
