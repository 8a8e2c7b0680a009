// The workflow bundle's entry: every workflow a worker runs, children included.
export { cycleWorkflow } from './cycle-workflow.js';
export { optimizeWorkflow } from './optimize-workflow.js';
export { rolloutWorkflow } from './rollout-workflow.js';
export { traceRetentionWorkflow } from './trace-retention-workflow.js';
export { onlineEvaluationWorkflow } from './online-evaluation-workflow.js';
