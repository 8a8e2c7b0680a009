/**
 * The dimensions the built-in judge rubrics score, in rubric order. Configuration schemas
 * validate dimension names against this list, so it lives at the bottom layer; the rubric
 * texts themselves live in evaluation/judge-rubrics.ts, and a unit test keeps the two equal.
 */
export const JUDGE_DIMENSIONS: readonly string[] = [
  'tool_selection',
  'argument_extraction',
  'result_utilization',
  'error_recovery',
  'plan_coherence',
  'task_completion',
  'factual_grounding',
  'privacy_safety',
  'instruction_adherence',
  'optimal_plan_execution',
];
