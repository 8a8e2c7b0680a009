import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { RetentionReport } from '../traces/trace-retention-service.js';
import { DEFAULT_RETRY } from './retry-policies.js';

/**
 * A purge of a large table can run for a long time; the heartbeat timeout notices a lost
 * worker within minutes, and a retry resumes (retention only removes what is still expired).
 */
const { applyTraceRetention } = proxyActivities<Activities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '2 minutes',
  retry: DEFAULT_RETRY,
});

/** Started daily by the `flywheel-trace-retention` schedule: one retention run over every agent. */
export async function traceRetentionWorkflow(): Promise<RetentionReport> {
  return applyTraceRetention();
}
