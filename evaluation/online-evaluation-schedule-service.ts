import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { onlineEvaluationWorkflow } from '../workflows/online-evaluation-workflow.js';
import { ONLINE_EVALUATION_SCHEDULE_ID, onlineEvaluationWorkflowPrefix } from '../workflows/workflow-ids.js';

/**
 * Every 5 minutes: the lag between a trace and its online score, and the drift check's
 * granularity (each agent's `drift.checkEveryMinutes` is counted from its last check).
 */
export const ONLINE_EVALUATION_EVERY = '5 minutes';

function options(
  taskQueue: string,
): ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof onlineEvaluationWorkflow>> {
  return {
    scheduleId: ONLINE_EVALUATION_SCHEDULE_ID,
    spec: { intervals: [{ every: ONLINE_EVALUATION_EVERY }] },
    action: {
      type: 'startWorkflow',
      workflowType: onlineEvaluationWorkflow,
      args: [],
      taskQueue,
      // The server appends the scheduled time, so every run has its own ID.
      workflowId: onlineEvaluationWorkflowPrefix,
      staticSummary: 'Online evaluation and drift checks of every agent that has them on',
    },
    // One run at a time; runs missed while everything was down are not worth catching up one
    // by one (the next run covers the traces since the last one anyway).
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
  };
}

/**
 * Creates the online evaluation schedule when it is missing; every worker calls this at
 * start. An existing schedule is left as it is, so an operator's pause or changed interval
 * survives restarts (`temporal schedule pause --schedule-id flywheel-online-evaluation`).
 * Agents without online evaluation or drift alerts cost one configuration read per run.
 */
export async function ensureOnlineEvaluationSchedule(
  client: Client,
  taskQueue: string,
): Promise<{ created: boolean }> {
  try {
    await client.schedule.create(options(taskQueue));
    return { created: true };
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return { created: false };
    throw error;
  }
}
