import {
  continueAsNew,
  log,
  proxyActivities,
  workflowInfo,
  allHandlersFinished,
  condition,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { OptimizerOutcome } from '../optimizers/optimizer.js';
import { ask, initRandomSearch, outcome, tell, type RandomSearchState } from '../optimizers/random-search.js';

export interface OptimizeInput {
  cycleId: string;
  runId: string;
  agent: string;
  datasetVersionId: string;
  baselineVersionId: string;
  seed: number;
  proposals: number;
  maxRollouts: number;
  maxHistoryEvents: number;
  /** Present after continue-as-new: the checkpoint to resume from. */
  checkpoint?: { state: RandomSearchState; baselineCandidateId: string; round: number; tokens: number };
}

export interface OptimizeResult extends OptimizerOutcome {
  runId: string;
  baselineCandidateId: string;
  stopReason: string;
  tokens: number;
}

const light = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 10 },
});
// Evaluations make many model calls: heartbeats let a dead worker be noticed in a minute
// rather than after the whole timeout, and per-example scores in Postgres make retries resume.
const heavy = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: ['InvalidInput', 'LlmBadRequest'] },
});

/**
 * Drives an ask/tell optimizer from `optimizers/`: each request becomes an activity, the
 * result is told back, and the serialisable state is carried through continue-as-new
 * before the history grows large, so a long search never hits history limits and a
 * crashed worker resumes exactly where it was.
 */
export async function optimizeWorkflow(input: OptimizeInput): Promise<OptimizeResult> {
  let checkpoint = input.checkpoint;
  if (!checkpoint) {
    const { baselineCandidateId } = await light.startOptimizationRun.executeWithOptions(
      { summary: 'register run and baseline candidate' },
      [
        {
          runId: input.runId,
          cycleId: input.cycleId,
          baselineVersionId: input.baselineVersionId,
          optimizer: 'random-search',
          config: { proposals: input.proposals, maxRollouts: input.maxRollouts, seed: input.seed },
        },
      ],
    );
    checkpoint = {
      state: initRandomSearch({
        seed: input.seed,
        baselineCandidateId,
        proposals: input.proposals,
        maxRollouts: input.maxRollouts,
      }),
      baselineCandidateId,
      round: 0,
      tokens: 0,
    };
  }
  const { state, baselineCandidateId } = checkpoint;
  let { round, tokens } = checkpoint;
  for (;;) {
    const request = ask(state);
    if (request.kind === 'done') {
      const result = outcome(state);
      await light.finishOptimizationRun.executeWithOptions({ summary: `stop: ${request.reason}` }, [
        { runId: input.runId, outcome: result, reason: request.reason },
      ]);
      return { ...result, runId: input.runId, baselineCandidateId, stopReason: request.reason, tokens };
    }
    if (request.kind === 'propose') {
      round++;
      const proposed = await heavy.proposeCandidates.executeWithOptions(
        { summary: `teacher proposes ${request.count} rewrites (round ${round})` },
        [
          {
            runId: input.runId,
            cycleId: input.cycleId,
            parentCandidateId: request.parentCandidateId,
            count: request.count,
            round,
            seed: input.seed + round,
          },
        ],
      );
      tokens += proposed.tokens;
      tell(state, { kind: 'proposed', candidateIds: proposed.candidateIds });
    } else {
      const evaluated = await heavy.evaluateCandidate.executeWithOptions(
        { summary: `evaluate ${request.candidateId} on train` },
        [
          {
            agent: input.agent,
            candidateId: request.candidateId,
            datasetVersionId: input.datasetVersionId,
            seed: input.seed,
          },
        ],
      );
      tokens += evaluated.tokens;
      tell(state, {
        kind: 'evaluated',
        candidateId: request.candidateId,
        score: evaluated.score,
        rollouts: evaluated.rollouts,
      });
    }
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= input.maxHistoryEvents) {
      log.info('optimizer checkpoint: continuing as new', {
        historyLength: info.historyLength,
        evaluations: state.scores.length,
      });
      await condition(allHandlersFinished);
      return continueAsNew<typeof optimizeWorkflow>({
        ...input,
        checkpoint: { state, baselineCandidateId, round, tokens },
      });
    }
  }
}
