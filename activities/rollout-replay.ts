import { compareOnSameInputs, type MeasurementPhase } from '../release/rollout-analysis.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import { versionById } from '../registry/store/prompt-repository.js';
import { runAgentStep } from '../llm/agent-step.js';
import { AgentAction } from '../schemas/trace.js';
import { PromptConfig, promptForAgent } from '../schemas/prompt.js';
import { rolloutById } from '../release/store/rollout-repository.js';
import { recordedStepResult, recordStepResult } from '../release/store/rollout-step-records.js';
import { recordShadowResults } from '../release/store/shadow-result-repository.js';
import { tracesToCompare } from '../traces/store/rollout-traffic.js';
import type { ActivityDeps } from './activity-deps.js';
import { boundedMap } from './bounded-map.js';
import { onlineRubric, stepPasses, traceMessages } from './rollout-judging.js';

export interface SameInputComparison {
  phase: MeasurementPhase;
  candidatePassRate: number | null;
  baselinePassRate: number | null;
  traces: number;
  reason: string;
}

export function createRolloutReplayActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    /**
     * Replay and shadow: the candidate answers inputs production already answered, and
     * both answers are scored the same way (gold expectation, else the judge). Replay takes
     * the most recent traffic before the rollout (open loop, nobody sees the candidate);
     * shadow takes a sampled share of traffic that arrived during the step, which users
     * were served by production while the candidate answered on the side.
     */
    async compareCandidateOnTraces(args: {
      rolloutId: string;
      stepIndex: number;
      /** Attempt number: a human may resume an inconclusive step, which compares again. */
      round: number;
      kind: 'replay' | 'shadow';
      /** Shadow: traffic ingested since the step began. */
      since?: string;
      limit: number;
      sampleRate: number;
      maxPassRateDrop: number;
      minTraces: number;
      seed: number;
    }): Promise<SameInputComparison> {
      const done = await recordedStepResult<SameInputComparison>(db, args);
      if (done) return done;
      const rollout = await rolloutById(db, args.rolloutId);
      const [candidate, baseline, config] = await Promise.all([
        versionById(db, rollout.candidate_version_id),
        versionById(db, rollout.baseline_version_id),
        agentConfig(db, rollout.agent_id),
      ]);
      const traces = await tracesToCompare(db, {
        agent: rollout.agent_id,
        version: baseline.version,
        kind: args.kind,
        startedAt: rollout.started_at,
        since: new Date(args.since ?? rollout.started_at),
        sampleRate: args.sampleRate,
        limit: args.limit,
      });
      const rubric = await onlineRubric(db, rollout.agent_id);
      // The candidate version as its users would get it: its system prompt with its demos,
      // and the agent's tools with the version's descriptions.
      const served = promptForAgent(
        { prompt: candidate.text, config: PromptConfig.parse(candidate.config) },
        config.tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })),
      );
      const results = await boundedMap(traces, deps.llmConcurrency, async (t) => {
        const recorded = AgentAction.safeParse(t.output);
        const messages = traceMessages(t.input);
        if (!recorded.success || !messages) return null;
        const { step } = await runAgentStep(deps.llm.agent, {
          systemPrompt: served.systemPrompt,
          messages,
          tools: served.tools,
          seed: args.seed,
        });
        const [candidatePass, baselinePass] = await Promise.all([
          stepPasses(deps, rubric, t, step, args.seed),
          stepPasses(deps, rubric, t, recorded.data, args.seed),
        ]);
        if (candidatePass === null || baselinePass === null) return null;
        return { traceId: t.id, step, candidatePass, baselinePass };
      });
      const compared = results.filter((r) => r !== null);
      const verdict = compareOnSameInputs(compared, args);
      const result: SameInputComparison = { ...verdict, traces: compared.length };
      await db.transaction().execute(async (tx) => {
        if (compared.length > 0)
          await recordShadowResults(
            tx,
            compared.map((r) => ({
              rolloutId: args.rolloutId,
              stepIndex: args.stepIndex,
              traceId: r.traceId,
              candidateOutput: r.step,
              candidatePass: r.candidatePass,
              baselinePass: r.baselinePass,
            })),
          );
        await recordStepResult(tx, args, {
          weight: rollout.weight,
          kind: args.kind,
          verdict: result.phase,
          result,
        });
      });
      return result;
    },
  };
}
