// Workflow IDs are readable business IDs; keep them to [A-Za-z0-9._-] so Web UI links work.
export const cycleWorkflowId = (agent: string, date: string) => `cycle-${agent}-${date}`;
export const scheduledCyclePrefix = (agent: string) => `cycle-${agent}-weekly`;
export const scheduleId = (agent: string) => `flywheel-weekly-${agent}`;
export const optimizeWorkflowId = (cycleId: string) => `${cycleId}-optimize`;
export const rolloutWorkflowId = (cycleId: string) => `${cycleId}-rollout`;
/** Operator rollouts outside a cycle; the timestamp is made ID-safe. */
export const manualRolloutWorkflowId = (agent: string, isoTime: string) =>
  `rollout-${agent}-${isoTime.replace(/[:.]/g, '-')}`;
/** The one daily trace retention schedule, and the prefix of the runs it starts. */
export const TRACE_RETENTION_SCHEDULE_ID = 'flywheel-trace-retention';
export const traceRetentionWorkflowPrefix = 'trace-retention';
/** The online evaluation schedule (every few minutes, all agents) and the prefix of its runs. */
export const ONLINE_EVALUATION_SCHEDULE_ID = 'flywheel-online-evaluation';
export const onlineEvaluationWorkflowPrefix = 'online-evaluation';
/** The early cycle a drift alert starts: one per alert, so a retried check cannot start two. */
export const driftCycleWorkflowId = (agent: string, alertAtMs: number) => `cycle-${agent}-drift-${alertAtMs}`;
