import { Context } from '@temporalio/activity';
import { applyTraceRetention, type RetentionReport } from '../traces/trace-retention-service.js';
import type { ActivityDeps } from './activity-deps.js';

export function createTraceRetentionActivities({ db }: ActivityDeps) {
  return {
    /**
     * One retention run. Safe to retry from the start: it deletes only what is still older
     * than each agent's cutoff and drops only partitions that still exist. Progress goes into
     * the heartbeat, so the Temporal UI shows how far a long purge got.
     */
    async applyTraceRetention(): Promise<RetentionReport> {
      const context = Context.current();
      return applyTraceRetention(db, {
        now: new Date(),
        onProgress: (note) => context.heartbeat(note),
      });
    },
  };
}
