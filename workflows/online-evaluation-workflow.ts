import { log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { DriftCheckSummary, OnlineRunSummary } from '../activities/online-evaluation.js';
import { HEAVY_ACTIVITY, LIGHT_ACTIVITY } from './retry-policies.js';

const light = proxyActivities<Activities>(LIGHT_ACTIVITY);
const heavy = proxyActivities<Activities>(HEAVY_ACTIVITY);

export interface OnlineEvaluationResult {
  at: string;
  runs: OnlineRunSummary[];
  driftChecks: DriftCheckSummary[];
}

/**
 * Started every few minutes by the `flywheel-online-evaluation` schedule: for each agent
 * with online evaluation or drift alerts on, scores the live traces that arrived since its
 * last run, then runs the drift check when one is due. Agents run one after another; one
 * agent's failure (after its retries) is logged and the others still run.
 */
export async function onlineEvaluationWorkflow(): Promise<OnlineEvaluationResult> {
  const { workflowId, taskQueue } = workflowInfo();
  const { at, agents } = await light.onlineEvaluationAgents.executeWithOptions(
    { summary: 'agents with online evaluation or drift alerts on' },
    [],
  );
  const runs: OnlineRunSummary[] = [];
  const driftChecks: DriftCheckSummary[] = [];
  for (const a of agents) {
    try {
      if (a.online) {
        runs.push(
          await heavy.evaluateOnline.executeWithOptions({ summary: `score ${a.agent}'s new live traces` }, [
            { agent: a.agent, at, runKey: `${workflowId}:${a.agent}` },
          ]),
        );
      }
      if (a.drift) {
        driftChecks.push(
          await heavy.checkDrift.executeWithOptions({ summary: `drift check of ${a.agent}` }, [
            { agent: a.agent, at, taskQueue },
          ]),
        );
      }
    } catch (error) {
      log.warn('online evaluation of an agent failed', { agent: a.agent, error: String(error) });
    }
  }
  return { at, runs, driftChecks };
}
