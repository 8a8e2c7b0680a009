import { compareOnSameInputs, type MeasurementPhase } from '../release/rollout-analysis.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import { versionById } from '../registry/store/prompt-repository.js';
import { runAgentStep } from '../llm/agent-step.js';
import { AgentAction } from '../schemas/trace.js';
import { recordedStepResult, recordStepResult } from '../release/store/rollout-step-records.js';
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
      const rollout = await db
        .selectFrom('rollouts')
        .selectAll()
        .where('id', '=', args.rolloutId)
        .executeTakeFirstOrThrow();
      const [candidate, baseline, config] = await Promise.all([
        versionById(db, rollout.candidate_version_id),
        versionById(db, rollout.baseline_version_id),
        agentConfig(db, rollout.agent_id),
      ]);
      let query = db
        .selectFrom('traces')
        .select(['id', 'input', 'output', 'expected'])
        .where('agent_id', '=', rollout.agent_id)
        .where('prompt_version', '=', baseline.version);
      query =
        args.kind === 'replay'
          ? query.where('ingested_at', '<', rollout.started_at).orderBy('ingested_at', 'desc').orderBy('id')
          : query
              .where('ingested_at', '>=', new Date(args.since ?? rollout.started_at))
              .where('sample_key', '<', args.sampleRate)
              .orderBy('sample_key');
      const traces = await query.limit(args.limit).execute();
      const rubric = await onlineRubric(db, rollout.agent_id);
      const tools = config.tools.map((t) => ({
        name: t.name,
        description: t.description,
        parameters: t.parameters,
      }));
      const results = await boundedMap(traces, deps.llmConcurrency, async (t) => {
        const recorded = AgentAction.safeParse(t.output);
        const messages = traceMessages(t.input);
        if (!recorded.success || !messages) return null;
        const { step } = await runAgentStep(deps.llm.agent, {
          systemPrompt: candidate.text,
          messages,
          tools,
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
          await tx
            .insertInto('rollout_shadow_results')
            .values(
              compared.map((r) => ({
                rollout_id: args.rolloutId,
                step_index: args.stepIndex,
                trace_id: r.traceId,
                candidate_output: JSON.stringify(r.step),
                candidate_pass: r.candidatePass,
                baseline_pass: r.baselinePass,
              })),
            )
            .onConflict((oc) => oc.doNothing())
            .execute();
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
