import { Context, heartbeat } from '@temporalio/activity';
import { compareOnSameInputs, type MeasurementPhase } from '../release/rollout-analysis.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import { versionById } from '../registry/store/prompt-repository.js';
import { runAgentStep } from '../llm/agent-step.js';
import { replayCoaching } from '../coaching/coaching-replay-service.js';
import { situationEmbedderFor } from '../coaching/situation-embedder.js';
import { CoachingSet } from '../schemas/coaching.js';
import { AgentAction } from '../schemas/trace.js';
import { PromptConfig, promptForAgent } from '../schemas/prompt.js';
import { rolloutById } from '../release/store/rollout-repository.js';
import { recordedStepResult, recordStepResult } from '../release/store/rollout-step-records.js';
import { recordShadowResults, stepShadowResults } from '../release/store/shadow-result-repository.js';
import { tracesToCompare, unansweredShadowTraces } from '../traces/store/rollout-traffic.js';
import type { ActivityDeps } from './activity-deps.js';
import { boundedMap } from '../llm/bounded-map.js';
import { onlineRubric, stepPasses, traceMessages } from './rollout-judging.js';

export interface SameInputComparison {
  phase: MeasurementPhase;
  candidatePassRate: number | null;
  baselinePassRate: number | null;
  traces: number;
  reason: string;
}

/** How often live shadow looks for traffic it has not answered yet. */
const SHADOW_POLL_MS = 1000;

/** What every same-input comparison step is given. */
interface StepComparison {
  rolloutId: string;
  stepIndex: number;
  /** Attempt number: a human may resume an inconclusive step, which compares again. */
  round: number;
  sampleRate: number;
  maxPassRateDrop: number;
  minTraces: number;
  seed: number;
}

type StoredTrace = { id: string; input: unknown; output: unknown; expected: unknown };

/** The stored form of one step's comparisons. */
const shadowRows = (
  step: { rolloutId: string; stepIndex: number },
  compared: readonly { traceId: string; step: unknown; candidatePass: boolean; baselinePass: boolean }[],
) =>
  compared.map((r) => ({
    rolloutId: step.rolloutId,
    stepIndex: step.stepIndex,
    traceId: r.traceId,
    candidateOutput: r.step,
    candidatePass: r.candidatePass,
    baselinePass: r.baselinePass,
  }));

export function createRolloutReplayActivities(deps: ActivityDeps) {
  const { db } = deps;

  /**
   * The rollout's two versions, and a function that has the candidate answer a stored
   * production trace as its users would get it (its system prompt with its demos, the
   * agent's tools with the version's descriptions), scoring both answers the same way (gold
   * expectation, else the judge). null: the trace cannot be compared.
   */
  async function comparer(rolloutId: string, seed: number) {
    const rollout = await rolloutById(db, rolloutId);
    const [candidate, baseline, config] = await Promise.all([
      versionById(db, rollout.candidate_version_id),
      versionById(db, rollout.baseline_version_id),
      agentConfig(db, rollout.agent_id),
    ]);
    const rubric = await onlineRubric(db, rollout.agent_id);
    // The candidate answers as its users would get it: with the active coaching production
    // recalls (the recorded answer had it too) and the coaching set the rollout carries.
    const coaching = await replayCoaching(
      db,
      rollout.agent_id,
      situationEmbedderFor(deps.llm.embedder),
      ['active'],
      rollout.coaching === null ? [] : CoachingSet.parse(rollout.coaching),
    );
    const served = promptForAgent(
      { prompt: candidate.text, config: PromptConfig.parse(candidate.config) },
      config.tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })),
    );
    const compare = async (t: StoredTrace) => {
      const recorded = AgentAction.safeParse(t.output);
      const messages = traceMessages(t.input);
      if (!recorded.success || !messages) return null;
      const fewShot = coaching.size > 0 ? (await coaching.recall(messages)).messages : [];
      const { step } = await runAgentStep(deps.llm.agent, {
        systemPrompt: served.systemPrompt,
        messages,
        fewShot,
        tools: served.tools,
        seed,
      });
      const [candidatePass, baselinePass] = await Promise.all([
        stepPasses(deps, rubric, t, step, seed),
        stepPasses(deps, rubric, t, recorded.data, seed),
      ]);
      if (candidatePass === null || baselinePass === null) return null;
      return { traceId: t.id, step, candidatePass, baselinePass };
    };
    return { rollout, baseline, compare };
  }

  return {
    /**
     * Replay and shadow: the candidate answers inputs production already answered, and
     * both answers are scored the same way (gold expectation, else the judge). Replay takes
     * the most recent traffic before the rollout (open loop, nobody sees the candidate);
     * shadow (in histories from before live shadow) takes a sampled share of traffic that
     * arrived during the step, answered after the step's wait.
     */
    async compareCandidateOnTraces(
      args: StepComparison & {
        kind: 'replay' | 'shadow';
        /** Shadow: traffic ingested since the step began. */
        since?: string;
        limit: number;
      },
    ): Promise<SameInputComparison> {
      const done = await recordedStepResult<SameInputComparison>(db, args);
      if (done) return done;
      const { rollout, baseline, compare } = await comparer(args.rolloutId, args.seed);
      const traces = await tracesToCompare(db, {
        agent: rollout.agent_id,
        version: baseline.version,
        kind: args.kind,
        startedAt: rollout.started_at,
        since: new Date(args.since ?? rollout.started_at),
        sampleRate: args.sampleRate,
        limit: args.limit,
      });
      const results = await boundedMap(traces, deps.llmConcurrency, compare);
      const compared = results.filter((r) => r !== null);
      const verdict = compareOnSameInputs(compared, args);
      const result: SameInputComparison = { ...verdict, traces: compared.length };
      await db.transaction().execute(async (tx) => {
        if (compared.length > 0) await recordShadowResults(tx, shadowRows(args, compared));
        await recordStepResult(tx, args, {
          weight: rollout.weight,
          kind: args.kind,
          verdict: result.phase,
          result,
        });
      });
      return result;
    },

    /**
     * Live shadow: for the step's duration, the candidate answers each sampled production
     * input shortly after production did (polled every second), next to production, and
     * nobody sees its answers. Each comparison is stored as it is made, so a retried attempt
     * (after a worker crash) carries on where the last one stopped, and the step's verdict
     * at the end counts every input answered during it. Heartbeats carry the progress;
     * cancelling the activity (an abort or promote) stops it at once.
     */
    async shadowLive(
      args: StepComparison & {
        /** When the step began (database clock); the step ends durationSeconds later. */
        since: string;
        durationSeconds: number;
        maxTraces: number;
      },
    ): Promise<SameInputComparison> {
      const done = await recordedStepResult<SameInputComparison>(db, args);
      if (done) return done;
      const { rollout, baseline, compare } = await comparer(args.rolloutId, args.seed);
      const since = new Date(args.since);
      const until = since.getTime() + args.durationSeconds * 1000;
      // Inputs that cannot be compared (no messages, a judge error) are not stored; skip them.
      const skipped = new Set<string>();
      let answered = (await stepShadowResults(db, args.rolloutId, args.stepIndex)).length;
      while (Date.now() < until && answered < args.maxTraces) {
        heartbeat({ answered, skipped: skipped.size });
        const fresh = (
          await unansweredShadowTraces(db, {
            agent: rollout.agent_id,
            version: baseline.version,
            rolloutId: args.rolloutId,
            stepIndex: args.stepIndex,
            since,
            sampleRate: args.sampleRate,
            limit: skipped.size + Math.min(deps.llmConcurrency, args.maxTraces - answered),
          })
        ).filter((t) => !skipped.has(t.id));
        if (fresh.length === 0) {
          // Rejects when the activity is cancelled.
          await Context.current().sleep(Math.max(1, Math.min(SHADOW_POLL_MS, until - Date.now())));
          continue;
        }
        const results = await boundedMap(fresh, deps.llmConcurrency, compare);
        const compared = results.filter((r) => r !== null);
        fresh.forEach((t, i) => {
          if (results[i] === null) skipped.add(t.id);
        });
        if (compared.length > 0) await recordShadowResults(db, shadowRows(args, compared));
        answered += compared.length;
      }
      const all = await stepShadowResults(db, args.rolloutId, args.stepIndex);
      const pairs = all.map((r) => ({ candidatePass: r.candidate_pass, baselinePass: r.baseline_pass }));
      const result: SameInputComparison = { ...compareOnSameInputs(pairs, args), traces: all.length };
      await recordStepResult(db, args, {
        weight: rollout.weight,
        kind: 'shadow',
        verdict: result.phase,
        result,
      });
      return result;
    },
  };
}
