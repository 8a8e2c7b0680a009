import { CancellationScope, proxyActivities, setHandler, sleep, defineQuery } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { StartRolloutInput } from '../activities/rollout-steps.js';
import type { RolloutAnalysis, RolloutStep } from '../schemas/cycle-input.js';

/** The rollout child's input: the rollout record plus its steps and analysis settings. */
export interface RolloutInput extends StartRolloutInput {
  steps: RolloutStep[];
  analysis: RolloutAnalysis;
}

export interface RolloutResult {
  status: 'completed' | 'rolled_back';
  reason: string;
  weight: number;
}

export const rolloutStatusQuery = defineQuery<{
  stepIndex: number;
  weight: number;
  lastVerdict: string | null;
}>('rolloutStatus');

const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 20 } });

/**
 * Argo-style staged rollout: for each step set the weight, pause, analyse candidate vs
 * baseline on live traffic. Failed → roll back; inconclusive → analyse again after another
 * pause, up to the limit, then roll back (no evidence is not evidence of safety).
 */
export async function rolloutWorkflow(input: RolloutInput): Promise<RolloutResult> {
  let stepIndex = 0;
  let weight = 0;
  let lastVerdict: string | null = null;
  setHandler(rolloutStatusQuery, () => ({ stepIndex, weight, lastVerdict }));

  // Rollback must run even if the rollout is cancelled mid-step.
  const rollback = (reason: string) =>
    CancellationScope.nonCancellable(async () => {
      await acts.finishRollout.executeWithOptions({ summary: `rollback: ${reason.slice(0, 80)}` }, [
        { rolloutId: input.rolloutId, status: 'rolled_back', reason },
      ]);
      return { status: 'rolled_back' as const, reason, weight: 0 };
    });

  await acts.startRollout.executeWithOptions(
    { summary: `rollout ${input.candidateVersionId} over ${input.baselineVersionId}` },
    [input],
  );
  try {
    for (; stepIndex < input.steps.length; stepIndex++) {
      const step = input.steps[stepIndex]!;
      weight = step.weight;
      const { since } = await acts.setRolloutWeight.executeWithOptions(
        { summary: `setWeight ${step.weight}%` },
        [{ rolloutId: input.rolloutId, weight: step.weight }],
      );
      if (step.pauseSeconds === 0) continue;
      for (let round = 0; ; round++) {
        await sleep(step.pauseSeconds * 1000, {
          summary: `pause at ${step.weight}% for ${step.pauseSeconds}s`,
        });
        const result = await acts.analyseRolloutStep.executeWithOptions(
          { summary: `analysis at ${step.weight}% (round ${round + 1})` },
          [
            {
              rolloutId: input.rolloutId,
              stepIndex,
              round,
              weight: step.weight,
              since,
              analysis: input.analysis,
            },
          ],
        );
        lastVerdict = result.verdict;
        if (result.verdict === 'successful') break;
        if (result.verdict === 'failed') return await rollback(result.reason);
        if (round >= input.analysis.maxInconclusiveRounds)
          return await rollback(`inconclusive after ${round + 1} analyses: ${result.reason}`);
      }
    }
  } catch (error) {
    await rollback(`rollout aborted: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
  await acts.finishRollout.executeWithOptions({ summary: 'promote: production → candidate' }, [
    { rolloutId: input.rolloutId, status: 'completed', reason: 'all steps passed' },
  ]);
  return { status: 'completed', reason: 'all steps passed', weight: 100 };
}
