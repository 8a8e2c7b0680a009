import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../schemas/failure-types.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import { recordRunExamples } from '../datasets/store/dataset-version-writer.js';
import { versionById } from '../registry/store/prompt-repository.js';
import { componentsOfVersion } from '../registry/shipped-prompt.js';
import { PromptConfig } from '../schemas/prompt.js';
import type { Candidate, IncumbentPoint, SearchOutcome, TeachTask } from '../optimizers/prompt-search.js';
import { candidateIdOf } from '../optimizers/prompt-search.js';
import { Budget, OptimizerChoice } from '../schemas/optimizer-config.js';
import { planBudget, type BudgetPlan } from '../optimizers/budget-plan.js';
import { formatIssues } from '../schemas/format-issues.js';
import type { ActivityDeps } from './activity-deps.js';
import { trainExampleClusters } from '../datasets/store/optimizer-examples.js';
import {
  completeOptimizationRun,
  recordOptimizationProgress,
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
     * Registers the run and its baseline candidate (the production prompt, its demos and
     * every tool description as it is served, each a separate component, so multi-component
     * optimizers can edit them), resolves the optimizer (the agent's configuration, unless the cycle names one) and
     * plans the budget from the train split's size, recording the plan's warnings with the
     * run before any rollout is spent.
     */
    async startOptimizationRun(args: {
      runId: string;
      cycleId: string;
      agent: string;
      baselineVersionId: string;
      datasetVersionId: string;
      optimizer: unknown;
      /** Absent in workflows started before budgets were planned: they keep their own. */
      budget?: unknown;
    }): Promise<{
      baseline: Candidate;
      baselineDbId: string;
      trainIds: string[];
      optimizer: OptimizerChoice;
      budgetPlan?: BudgetPlan;
      strata?: Record<string, string>;
    }> {
      const config = await agentConfig(db, args.agent);
      const parsed = OptimizerChoice.safeParse(args.optimizer ?? config.optimizer ?? { name: 'gepa' });
      if (!parsed.success) {
        throw ApplicationFailure.nonRetryable(
          `Invalid optimizer configuration for agent ${args.agent}: ${parsed.error.message}. ` +
            'Set optimizer.name to random-search, protegi, gepa or mipro, with settings from docs.',
          FailureType.InvalidInput,
        );
      }
      const budget = Budget.safeParse(args.budget ?? {});
      if (!budget.success) {
        throw ApplicationFailure.nonRetryable(
          `Invalid optimizer budget: ${formatIssues(budget.error)}. ` +
            'Give one of maxRollouts, auto (light, medium, heavy) or proposals.',
          FailureType.InvalidInput,
        );
      }
      const train = await trainExampleClusters(db, args.datasetVersionId);
      const trainIds = train.map((t) => t.id);
      const strata = Object.fromEntries(
        train.flatMap((t) => (t.cluster_id === null ? [] : [[t.id, t.cluster_id]])),
      );
      if (trainIds.length === 0) {
        throw ApplicationFailure.nonRetryable(
          `Dataset version ${args.datasetVersionId} has no train examples.`,
          FailureType.InvalidInput,
        );
      }
      // The production version as its users get it: its text, demos and tool descriptions
      // (the version's own where an earlier release changed them, else the agent's).
      const production = await versionById(db, args.baselineVersionId);
      const texts = componentsOfVersion(
        { text: production.text, config: PromptConfig.parse(production.config) },
        config.tools,
      );
      const budgetPlan = planBudget(parsed.data, budget.data, {
        trainSize: trainIds.length,
        components: texts.length,
      });
      await registerOptimizationRun(db, {
        id: args.runId,
        cycleId: args.cycleId,
        optimizer: parsed.data,
        budgetPlan,
      });
      // What this run trains on, so later dataset versions keep it out of the gating splits.
      await recordRunExamples(db, args.runId, trainIds);
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
      return { baseline, baselineDbId, trainIds, optimizer: parsed.data, budgetPlan, strata };
    },

    async evaluateSearchBatch(args: {
      runId: string;
      cycleId: string;
      agent: string;
      seed: number;
      candidate: Candidate;
      candidateId: string;
      exampleIds: string[];
      /**
       * The search's trajectory so far, sent when it grew since the last batch, for the
       * progress chart. Optional: workflows already in flight send none until it grows.
       */
      progress?: { rollouts: number; trajectory: IncumbentPoint[] };
    }): Promise<{ scores: number[]; rollouts: number; tokens: number }> {
      if (args.progress) await recordOptimizationProgress(db, args.runId, args.progress);
      const io = await searchIo(args);
      // The optimizer asks only for pairs it has not evaluated: a stored output is from an
      // interrupted earlier attempt of this activity, and is re-run from the response cache.
      return evaluateCandidate(io, args.candidate, args.candidateId, args.exampleIds, 'rerun');
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
