import type { CodeEvaluatorConfig } from '../schemas/code-evaluator-config.js';
import type { Evaluation } from '../schemas/evaluation.js';
import type { TraceRecord } from '../schemas/trace.js';
import {
  EXPECTED_STEP_MATCH,
  GOLD_ACTION_DIFF,
  expectedStepMatch,
  goldActionDiff,
} from './gold-action-diff.js';
import { TEXT_ASSERTIONS, textAssertions } from './text-assertions.js';
import { COST_THRESHOLD, LATENCY_THRESHOLD, costThreshold, latencyThreshold } from './threshold-checks.js';
import { TOOL_ARGUMENT_VALIDITY, toolArgumentValidity, type Tool } from './tool-argument-validity.js';
import { TOOL_PRECONDITIONS, toolPreconditions } from './tool-preconditions.js';

/**
 * The code evaluators, the dimension each decides without a model, and what a trace or the
 * configuration must provide for it to speak. Each is silent (no evaluation) otherwise, so
 * a dimension is only decided by code for the traces that carry its evidence; the rest go
 * to the judge.
 */
export const CODE_EVALUATORS = [
  {
    evaluator: GOLD_ACTION_DIFF,
    dimension: 'task_completion',
    needs: 'a gold action list (expectedActions)',
  },
  { evaluator: EXPECTED_STEP_MATCH, dimension: 'task_completion', needs: 'an expected next step (expected)' },
  { evaluator: TOOL_ARGUMENT_VALIDITY, dimension: 'argument_extraction', needs: 'the agent tool schemas' },
  { evaluator: TOOL_PRECONDITIONS, dimension: 'plan_coherence', needs: 'precondition rules' },
  { evaluator: TEXT_ASSERTIONS, dimension: 'instruction_adherence', needs: 'text assertions' },
  { evaluator: LATENCY_THRESHOLD, dimension: 'latency', needs: 'a latency limit' },
  { evaluator: COST_THRESHOLD, dimension: 'cost', needs: 'a cost limit and a trace cost' },
] as const;

export type CodeEvaluatorName = (typeof CODE_EVALUATORS)[number]['evaluator'];
export type CodeDecidableDimension = (typeof CODE_EVALUATORS)[number]['dimension'];

/** The dimensions some code evaluator can decide (given its evidence). */
export const CODE_DECIDABLE_DIMENSIONS: readonly CodeDecidableDimension[] = [
  ...new Set(CODE_EVALUATORS.map((e) => e.dimension)),
];

/**
 * Runs every configured code evaluator on a trace and returns the evaluations of those that
 * had something to judge. Pure: the configuration is parsed once by the caller.
 */
export function runCodeEvaluators(
  trace: TraceRecord,
  config: CodeEvaluatorConfig,
  tools: readonly Tool[],
): Evaluation[] {
  const results = [
    config.goldActionDiff.enabled ? goldActionDiff(trace, config.goldActionDiff) : null,
    config.goldActionDiff.enabled ? expectedStepMatch(trace, config.goldActionDiff) : null,
    config.argumentSchemas.enabled ? toolArgumentValidity(trace, tools) : null,
    toolPreconditions(trace, config.preconditions),
    textAssertions(trace, config.assertions),
    latencyThreshold(trace, config.thresholds),
    costThreshold(trace, config.thresholds),
  ];
  return results.filter((e): e is Evaluation => e !== null);
}
