import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { traceRetentionWorkflow } from '../workflows/trace-retention-workflow.js';
import { TRACE_RETENTION_SCHEDULE_ID, traceRetentionWorkflowPrefix } from '../workflows/workflow-ids.js';

/** Daily at 03:17 UTC: off the hour, when most agents are quiet and no weekly cycle starts. */
export const RETENTION_CRON = '17 3 * * *';

function options(
  taskQueue: string,
): ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof traceRetentionWorkflow>> {
  return {
    scheduleId: TRACE_RETENTION_SCHEDULE_ID,
    spec: { cronExpressions: [RETENTION_CRON] },
    action: {
      type: 'startWorkflow',
      workflowType: traceRetentionWorkflow,
      args: [],
      taskQueue,
      // The server appends the scheduled time, so every run has its own ID.
      workflowId: traceRetentionWorkflowPrefix,
      staticSummary: "Trace retention: each agent's retentionDays, then partitions no agent keeps",
    },
    // One run at a time; a day missed while everything was down is caught up once.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  };
}

/**
 * Creates the daily retention schedule when it is missing; every worker calls this at start.
 * An existing schedule is left as it is, so an operator's pause or changed time survives
 * restarts (`temporal schedule update|pause --schedule-id flywheel-trace-retention`).
 */
export async function ensureRetentionSchedule(
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
