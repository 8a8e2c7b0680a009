import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../schemas/failure-types.js';
import { labelledVersion } from '../registry/store/prompt-repository.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import { insertCycle, setCycleStage } from '../cycles/store/cycle-repository.js';
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
          FailureType.InvalidInput,
        );
      }
      await insertCycle(db, args);
      return { baselineVersionId: production.id, baselineVersion: production.version };
    },

    /** Returns when the stage began (database time), so the workflow never reads a clock. */
    async updateCycleStage(args: {
      cycleId: string;
      stage: string;
      outcome: string;
    }): Promise<{ at: string }> {
      const at = await setCycleStage(db, args.cycleId, args.stage, args.outcome);
      return { at: (at ?? new Date()).toISOString() };
    },
  };
}
