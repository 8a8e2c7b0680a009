import { ApplicationFailure } from '@temporalio/common';
import { labelledVersion } from '../registry/store/prompt-repository.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import type { ActivityDeps } from './activity-deps.js';

export interface RecordCycleStartInput {
  cycleId: string;
  runId: string;
  agent: string;
  windowStart: string;
  windowEnd: string;
  input: unknown;
}

export function createCycleRecordActivities({ db }: ActivityDeps) {
  return {
    /** Upsert: a retried or resumed start finds its row instead of failing or duplicating. */
    async recordCycleStart(
      args: RecordCycleStartInput,
    ): Promise<{ baselineVersionId: string; baselineVersion: number }> {
      await agentConfig(db, args.agent);
      const production = await labelledVersion(db, args.agent, 'production');
      if (!production) {
        throw ApplicationFailure.nonRetryable(
          `Agent "${args.agent}" has no prompt labelled production; create version 1 and label it before starting a cycle.`,
          'InvalidInput',
        );
      }
      await db
        .insertInto('cycles')
        .values({
          id: args.cycleId,
          agent_id: args.agent,
          run_id: args.runId,
          stage: 'starting',
          outcome: 'in_progress',
          window_start: args.windowStart,
          window_end: args.windowEnd,
          input: JSON.stringify(args.input),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      return { baselineVersionId: production.id, baselineVersion: production.version };
    },

    /** Returns when the stage began (database time), so the workflow never reads a clock. */
    async updateCycleStage(args: {
      cycleId: string;
      stage: string;
      outcome: string;
    }): Promise<{ at: string }> {
      const row = await db
        .updateTable('cycles')
        .set({ stage: args.stage, outcome: args.outcome, updated_at: new Date() })
        .where('id', '=', args.cycleId)
        .returning('updated_at')
        .executeTakeFirst();
      return { at: (row?.updated_at ?? new Date()).toISOString() };
    },
  };
}
