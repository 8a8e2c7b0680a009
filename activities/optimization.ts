import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../schemas/failure-types.js';
import { activityAgentConfig } from './activity-agent-config.js';
import { recordRunExamples } from '../datasets/store/dataset-version-writer.js';
import { versionById } from '../registry/store/prompt-repository.js';
import type { Candidate, SearchOutcome, TeachTask } from '../optimizers/prompt-search.js';
import { candidateIdOf } from '../optimizers/prompt-search.js';
import { OptimizerChoice } from '../schemas/optimizer-config.js';
import type { ActivityDeps } from './activity-deps.js';
import { trainExampleIds } from '../datasets/store/optimizer-examples.js';
import {
  completeOptimizationRun,
  registerOptimizationRun,
} from '../optimization/store/optimization-run-repository.js';
import { PgSearchStore } from '../optimization/store/pg-search-store.js';
import { pgSearchIo } from './pg-search-io.js';
import { evaluateCandidate, teach, textIdOf } from './search-executor.js';

/**
 * The optimize child workflow's activities: register a run and its baseline, answer the
 * optimizer's evaluation and teacher requests, and record the outcome. Each request is
 * idempotent (content-addressed texts, per-example stored scores), so retries and a
 * replayed workflow never pay for the same model call twice.
 */
export function createOptimizationActivities(deps: ActivityDeps) {
  const { db } = deps;

  const searchIo = (args: { runId: string; cycleId: string; agent: string; seed: number }) =>
    pgSearchIo(deps, args);

  return {
    /**
     * Registers the run and its baseline candidate (the production prompt plus every tool
     * description as a separate component, so multi-component optimizers can edit them),
     * and resolves the optimizer: the agent's configuration, unless the cycle names one.
     */
    async startOptimizationRun(args: {
      runId: string;
      cycleId: string;
      agent: string;
      baselineVersionId: string;
      datasetVersionId: string;
      optimizer: unknown;
    }): Promise<{
      baseline: Candidate;
      baselineDbId: string;
      trainIds: string[];
      optimizer: OptimizerChoice;
    }> {
      const config = await activityAgentConfig(db, args.agent);
      const parsed = OptimizerChoice.safeParse(args.optimizer ?? config.optimizer ?? { name: 'gepa' });
      if (!parsed.success) {
        throw ApplicationFailure.nonRetryable(
          `Invalid optimizer configuration for agent ${args.agent}: ${parsed.error.message}. ` +
            'Set optimizer.name to random-search, protegi, gepa or mipro, with settings from docs.',
          FailureType.InvalidInput,
        );
      }
      const trainIds = await trainExampleIds(db, args.datasetVersionId);
      if (trainIds.length === 0) {
        throw ApplicationFailure.nonRetryable(
          `Dataset version ${args.datasetVersionId} has no train examples.`,
          FailureType.InvalidInput,
        );
      }
      await registerOptimizationRun(db, { id: args.runId, cycleId: args.cycleId, optimizer: parsed.data });
      // What this run trains on, so later dataset versions keep it out of the gating splits.
      await recordRunExamples(db, args.runId, trainIds);
      const baselineText = (await versionById(db, args.baselineVersionId)).text;
      const texts = [
        { component: 'system', text: baselineText },
        ...config.tools.map((t) => ({ component: `tool:${t.name}`, text: t.description })),
      ].filter((t) => t.text.trim() !== '');
      const store = new PgSearchStore(db, args.runId, args.cycleId, config.tools);
      await store.putTexts(
        texts.map((t) => ({ id: textIdOf(t.text), text: t.text, kind: 'component' as const })),
      );
      const baseline: Candidate = Object.fromEntries(texts.map((t) => [t.component, textIdOf(t.text)]));
      const baselineDbId = await store.registerCandidate(
        candidateIdOf(baseline),
        baseline,
        `production prompt ${args.baselineVersionId}`,
      );
      return { baseline, baselineDbId, trainIds, optimizer: parsed.data };
    },

    async evaluateSearchBatch(args: {
      runId: string;
      cycleId: string;
      agent: string;
      seed: number;
      candidate: Candidate;
      candidateId: string;
      exampleIds: string[];
    }): Promise<{ scores: number[]; rollouts: number; tokens: number }> {
      const io = await searchIo(args);
      return evaluateCandidate(io, args.candidate, args.candidateId, args.exampleIds);
    },

    async teachOptimizer(args: {
      runId: string;
      cycleId: string;
      agent: string;
      seed: number;
      task: TeachTask;
      sample: number;
    }): Promise<{ textIds: string[]; teacherCalls: number; tokens: number }> {
      const io = await searchIo(args);
      return teach(io, args.task, args.sample);
    },

    async finishOptimizationRun(args: {
      runId: string;
      cycleId: string;
      outcome: SearchOutcome;
      tokens: number;
    }): Promise<{ bestDbId: string }> {
      const { outcome } = args;
      const store = new PgSearchStore(db, args.runId, args.cycleId, []);
      const bestDbId = await store.registerCandidate(outcome.bestCandidateId, outcome.best);
      await completeOptimizationRun(db, args.runId, {
        bestCandidateId: bestDbId,
        outcome,
        tokens: args.tokens,
      });
      return { bestDbId };
    },
  };
}
