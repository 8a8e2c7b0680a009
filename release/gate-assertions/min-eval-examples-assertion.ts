import type { Draft, GateContext } from './gate-context.js';

export function minEvalExamplesAssertion({ config, evalExamples }: GateContext): Draft {
  return {
    name: 'min_eval_examples',
    kind: 'min_eval_examples',
    passed: evalExamples >= config.minEvalExamples,
    detail: `${evalExamples} eval examples (need ≥ ${config.minEvalExamples})`,
    value: evalExamples,
    threshold: config.minEvalExamples,
    rests: [],
  };
}
