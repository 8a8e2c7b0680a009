import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { optimizerFor } from '../optimizers/optimizer-registry.js';
import {
  PromptSearch,
  type SearchOutcome,
  type SearchResponse,
  type SearchSetup,
} from '../optimizers/prompt-search.js';
import type { BudgetPlan } from '../optimizers/budget-plan.js';
import { DEFAULT_MAX_ROLLOUTS, type BudgetArg, type OptimizerChoice } from '../schemas/optimizer-config.js';
import { HEAVY_ACTIVITY, LIGHT_ACTIVITY, LLM_RETRY } from './retry-policies.js';

export interface OptimizeInput {
  cycleId: string;
  runId: string;
  agent: string;
  datasetVersionId: string;
  baselineVersionId: string;
  seed: number;
  /** null = the agent's configured optimizer. */
  optimizer: OptimizerChoice | null;
  /** maxRollouts, an auto level or proposals; the start activity plans it from the data. */
  budget: BudgetArg;
  stopping: SearchSetup['stopping'];
  maxHistoryEvents: number;
  /** Per-attempt limits of the evaluation and teacher activities; absent: the defaults below. */
  modelTimeouts?: { batchMinutes: number; teacherMinutes: number };
  /** Present after continue-as-new: everything needed to replay the search to where it was. */
  checkpoint?: {
    setup: SearchSetup;
    optimizer: OptimizerChoice;
    baselineDbId: string;
    log: SearchResponse[];
    tokens: number;
  };
}

export interface OptimizeResult {
  runId: string;
  optimizer: OptimizerChoice['name'];
  /** Candidate row IDs (run-scoped) for the gate. */
  bestCandidateId: string;
  baselineCandidateId: string;
  bestScore: number;
  baselineScore: number;
  rolloutsUsed: number;
  teacherCalls: number;
  tokens: number;
  stopReason: string;
  warnings: string[];
}

const light = proxyActivities<Activities>(LIGHT_ACTIVITY);
const heavy = proxyActivities<Activities>(HEAVY_ACTIVITY);
// Teacher calls are single, slower model calls with their own timeout and no heartbeat.
const teacher = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: LLM_RETRY,
});

/** The budget plan, said before the first rollout: in the worker log and the run's details. */
function announce(optimizer: string, plan: BudgetPlan): void {
  const line =
    `${optimizer}: ${plan.maxRollouts} rollouts (${plan.source}) buy at least ${plan.proposals} ${plan.unit}s ` +
    `after a baseline of ${plan.baselineRollouts} on an evaluation set of ${plan.evaluationSetSize}` +
    (plan.maxTeacherCalls === null ? '' : `; at most ${plan.maxTeacherCalls} teacher calls`);
  log.info(`optimizer budget: ${line}`);
  for (const warning of plan.warnings) log.warn(warning);
  setCurrentDetails([line, ...plan.warnings.map((w) => `**Warning:** ${w}`)].join('\n\n'));
}

/** The patch under which GEPA's default pick among programs tied for the best is `most_edits`. */
export const GEPA_TIE_BREAK_PATCH = 'gepa-tie-break-most-edits';

/**
 * GEPA's pick among programs tied for the best became the one with the most accepted edits
 * (`tieBreak`, default `most_edits`; it was the earliest). The settings come in
 * startOptimizationRun's recorded result, so histories from before lack the field and the
 * optimizer picks the earliest; the patch also keeps the earliest for a run started by a
 * worker without this code whose settings a newer activity worker resolved, so a run's
 * pick depends only on the workflow code that started it.
 */
function withTieBreakPatch(optimizer: OptimizerChoice): OptimizerChoice {
  if (optimizer.name !== 'gepa' || patched(GEPA_TIE_BREAK_PATCH)) return optimizer;
  return { ...optimizer, settings: { ...optimizer.settings, tieBreak: 'earliest' } };
}

/**
 * The one durable driver for every prompt optimizer: each request of the ask/tell session
 * becomes an activity (evaluation batches or a teacher call), each answer is logged, and
 * before the history grows large the workflow continues as new carrying the log; the next
 * run replays the log through a fresh optimizer (pure, so it lands in the same state) and
 * goes on. A crashed worker resumes the same way, from Temporal's own history.
 */
export async function optimizeWorkflow(input: OptimizeInput): Promise<OptimizeResult> {
  let checkpoint = input.checkpoint;
  if (!checkpoint) {
    const started = await light.startOptimizationRun.executeWithOptions(
      { summary: 'register run, baseline and optimizer' },
      [
        {
          runId: input.runId,
          cycleId: input.cycleId,
          agent: input.agent,
          baselineVersionId: input.baselineVersionId,
          datasetVersionId: input.datasetVersionId,
          optimizer: input.optimizer,
          budget: input.budget,
        },
      ],
    );
    const plan = started.budgetPlan;
    if (plan) announce(started.optimizer.name, plan);
    checkpoint = {
      setup: {
        seed: input.seed,
        baseline: started.baseline,
        trainIds: started.trainIds,
        // Histories from before budget planning have no plan: their input holds raw rollouts.
        budget: plan
          ? { maxRollouts: plan.maxRollouts, maxTeacherCalls: plan.maxTeacherCalls }
          : {
              maxRollouts: input.budget.maxRollouts ?? DEFAULT_MAX_ROLLOUTS,
              maxTeacherCalls: input.budget.maxTeacherCalls ?? null,
            },
        stopping: input.stopping,
        ...(started.strata ? { strata: started.strata } : {}),
        ...(plan?.warnings.length ? { warnings: plan.warnings } : {}),
      },
      optimizer: withTieBreakPatch(started.optimizer),
      baselineDbId: started.baselineDbId,
      log: [],
      tokens: 0,
    };
  }
  const { setup, optimizer, baselineDbId } = checkpoint;
  let tokens = checkpoint.tokens;
  const search = new PromptSearch(setup, optimizerFor(optimizer), { log: checkpoint.log });
  const common = { runId: input.runId, cycleId: input.cycleId, agent: input.agent, seed: input.seed };
  // Incumbent points already sent for the progress chart. The trajectory rides in the next
  // evaluation's input rather than in an activity of its own: no new command, so histories
  // recorded before it replay unchanged (Temporal compares commands, not activity inputs).
  // After continue-as-new it starts at 0 and the whole trajectory is sent again (idempotent).
  let reported = 0;
  for (;;) {
    const step = search.next();
    if (step.kind === 'done') {
      const outcome: SearchOutcome = search.outcome();
      for (const warning of outcome.warnings) log.warn(warning);
      const { bestDbId } = await light.finishOptimizationRun.executeWithOptions(
        { summary: `stop: ${step.reason}` },
        [{ runId: input.runId, cycleId: input.cycleId, outcome, tokens }],
      );
      return {
        runId: input.runId,
        optimizer: optimizer.name,
        bestCandidateId: bestDbId,
        baselineCandidateId: baselineDbId,
        bestScore: outcome.bestScore,
        baselineScore: outcome.baselineScore ?? 0,
        rolloutsUsed: outcome.rollouts,
        teacherCalls: outcome.teacherCalls,
        tokens,
        stopReason: step.reason,
        warnings: outcome.warnings,
      };
    }
    if (step.kind === 'evaluate') {
      const sofar = search.outcome();
      const grew = sofar.trajectory.length > reported;
      reported = sofar.trajectory.length;
      const result = await heavy.evaluateSearchBatch.executeWithOptions(
        {
          summary: `${step.purpose}: ${step.exampleIds.length} examples of ${step.candidateId}`,
          ...(input.modelTimeouts ? { startToCloseTimeout: input.modelTimeouts.batchMinutes * 60_000 } : {}),
        },
        [
          {
            ...common,
            candidate: step.candidate,
            candidateId: step.candidateId,
            exampleIds: step.exampleIds,
            ...(grew ? { progress: { rollouts: sofar.rollouts, trajectory: sofar.trajectory } } : {}),
          },
        ],
      );
      tokens += result.tokens;
      search.respond({ kind: 'evaluated', scores: result.scores });
    } else {
      const result = await teacher.teachOptimizer.executeWithOptions(
        {
          summary: `teacher: ${step.task.type}`,
          ...(input.modelTimeouts
            ? { startToCloseTimeout: input.modelTimeouts.teacherMinutes * 60_000 }
            : {}),
        },
        [{ ...common, task: step.task, sample: step.sample }],
      );
      tokens += result.tokens;
      search.respond({ kind: 'taught', textIds: result.textIds });
    }
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= input.maxHistoryEvents) {
      const outcome = search.outcome();
      log.info('optimizer checkpoint: continuing as new', {
        historyLength: info.historyLength,
        rollouts: outcome.rollouts,
        teacherCalls: outcome.teacherCalls,
      });
      await condition(allHandlersFinished);
      return continueAsNew<typeof optimizeWorkflow>({
        ...input,
        checkpoint: { setup, optimizer, baselineDbId, log: search.checkpoint().log, tokens },
      });
    }
  }
}
