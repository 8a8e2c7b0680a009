import {
  CancellationScope,
  condition,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { StartRolloutInput } from '../activities/rollout-steps.js';
import { analysisPhase, type MeasurementPhase } from '../release/rollout-analysis.js';
import { describeStep, type RolloutConfig, type RolloutStepSpec } from '../schemas/rollout-config.js';
import {
  PromoteRequest,
  RolloutActionRequest,
  SetWeightRequest,
  type RolloutState,
} from '../schemas/rollout-control.js';
import {
  abortRolloutUpdate,
  pauseRolloutUpdate,
  promoteRolloutUpdate,
  resumeRolloutUpdate,
  rolloutStatusQuery,
  setRolloutWeightUpdate,
} from './messages.js';
import { LLM_RETRY } from './retry-policies.js';
import { SignedDecisions, type AcceptedDecision } from './signed-decisions.js';
import type { DecisionAction } from '../schemas/signed-decision.js';

/** The rollout child's input: the rollout record, its steps and analysis template. */
export interface RolloutInput extends Omit<StartRolloutInput, 'workflowId'> {
  seed: number;
  /**
   * The cycle's limit for one attempt of a model-calling activity (its `batchMinutes`). A
   * slow model server needs it for the replay, shadow and analysis steps as much as for
   * scoring. Absent (manual rollouts, rollouts started before it existed): 20 minutes.
   * Only activity timeouts depend on it, which replay does not compare.
   */
  modelTimeouts?: { batchMinutes: number };
}

export interface RolloutResult {
  status: 'completed' | 'rolled_back';
  reason: string;
  weight: number;
}

const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 20 } });
const llmActs = proxyActivities<Activities>({
  startToCloseTimeout: '20 minutes',
  retry: LLM_RETRY,
});

/**
 * A staged rollout modelled on Argo Rollouts: replay, shadow, setWeight, pause and analysis
 * steps. A failed analysis rolls back at once (weight 0, labels restored, reason recorded);
 * an inconclusive one pauses for a human. Humans can promote, pause, resume, abort or set the
 * weight at any time through validated Updates, each recorded in the audit log.
 */
export async function rolloutWorkflow(input: RolloutInput): Promise<RolloutResult> {
  const config: RolloutConfig = input.config;
  const modelMinutes = input.modelTimeouts?.batchMinutes ?? 20;
  const state: RolloutState = {
    rolloutId: input.rolloutId,
    agent: input.agent,
    phase: 'progressing',
    stepIndex: 0,
    steps: config.steps.map(describeStep),
    weight: 0,
    pausedReason: null,
    lastResult: null,
    reason: null,
  };
  /** Set by `promote`: leave the step we are paused on (or every remaining step). */
  let skipStep = false;
  let promoteFull = false;
  let abort: { actor: string; reason: string } | undefined;
  // Read through a function: update handlers set it, which TypeScript's narrowing cannot see.
  const aborted = () => abort;
  const finished = () => state.phase === 'completed' || state.phase === 'rolled_back';

  const audit = (actor: string, action: string, detail: Record<string, unknown>) =>
    acts.recordAudit.executeWithOptions({ summary: `${action} by ${actor}` }, [
      {
        actor,
        action,
        artifact: `rollout:${input.rolloutId}`,
        detail: { ...detail, stepIndex: state.stepIndex, weight: state.weight },
      },
    ]);
  const setPhase = async (phase: 'progressing' | 'paused', reason: string | null) => {
    state.phase = phase;
    state.pausedReason = reason;
    await acts.setRolloutPhase.executeWithOptions(
      { summary: phase === 'paused' ? `paused: ${reason}` : 'resumed' },
      [{ rolloutId: input.rolloutId, phase, stepIndex: state.stepIndex, reason }],
    );
  };

  setHandler(rolloutStatusQuery, () => state);
  const decisions = new SignedDecisions();
  // Validators run before anything reaches history: a refused action leaves no trace. The
  // signature is checked first: only a person the API signed for may steer a rollout.
  const guard = (raw: unknown, action: DecisionAction, allowed: boolean, why: string) => {
    decisions.verify(raw, action);
    if (finished())
      throw new Error(`Rollout ${input.rolloutId} is already ${state.phase}; nothing to change.`);
    if (!allowed) throw new Error(why);
  };
  const signature = (d: AcceptedDecision<DecisionAction>) => (d.signature ? { signature: d.signature } : {});
  setHandler(
    promoteRolloutUpdate,
    async (raw) => {
      const d = decisions.accept(raw, 'promote', unsigned(PromoteRequest));
      await audit(d.actor, d.args.full ? 'promote_full' : 'promote', {
        reason: d.args.reason ?? null,
        ...signature(d),
      });
      skipStep = true;
      promoteFull = d.args.full;
      state.phase = 'progressing';
      state.pausedReason = null;
      return state;
    },
    {
      validator: (raw) =>
        guard(
          raw,
          'promote',
          state.phase === 'paused',
          `Rollout ${input.rolloutId} is not paused (phase: ${state.phase}); only a paused rollout can be promoted. Pause it first.`,
        ),
      description: 'Skip the step the rollout is paused on ({ full: true } skips every remaining step)',
    },
  );
  setHandler(
    pauseRolloutUpdate,
    async (raw) => {
      const d = decisions.accept(raw, 'pause', unsigned(RolloutActionRequest));
      await audit(d.actor, 'pause', { reason: d.args.reason ?? null, ...signature(d) });
      await setPhase('paused', `paused by ${d.actor}${d.args.reason ? `: ${d.args.reason}` : ''}`);
      return state;
    },
    {
      validator: (raw) =>
        guard(
          raw,
          'pause',
          state.phase === 'progressing',
          `Rollout ${input.rolloutId} is already paused (${state.pausedReason}).`,
        ),
      description: 'Hold the rollout at its current weight until resumed, promoted or aborted',
    },
  );
  setHandler(
    resumeRolloutUpdate,
    async (raw) => {
      const d = decisions.accept(raw, 'resume', unsigned(RolloutActionRequest));
      await audit(d.actor, 'resume', { reason: d.args.reason ?? null, ...signature(d) });
      await setPhase('progressing', null);
      return state;
    },
    {
      validator: (raw) =>
        guard(
          raw,
          'resume',
          state.phase === 'paused',
          `Rollout ${input.rolloutId} is not paused (phase: ${state.phase}).`,
        ),
      description: 'Continue a paused rollout (an inconclusive analysis runs again)',
    },
  );
  setHandler(
    abortRolloutUpdate,
    async (raw) => {
      const d = decisions.accept(raw, 'abort', unsigned(RolloutActionRequest));
      await audit(d.actor, 'abort', { reason: d.args.reason ?? null, ...signature(d) });
      abort = { actor: d.actor, reason: `aborted by ${d.actor}${d.args.reason ? `: ${d.args.reason}` : ''}` };
      return state;
    },
    {
      validator: (raw) =>
        guard(raw, 'abort', abort === undefined, `Rollout ${input.rolloutId} is already being aborted.`),
      description: 'Stop now and roll back: weight 0, production label restored',
    },
  );
  setHandler(
    setRolloutWeightUpdate,
    async (raw) => {
      const d = decisions.accept(raw, 'setWeight', unsigned(SetWeightRequest));
      await audit(d.actor, 'set_weight', {
        from: state.weight,
        to: d.args.weight,
        reason: d.args.reason ?? null,
        ...signature(d),
      });
      await acts.setRolloutWeight({
        rolloutId: input.rolloutId,
        weight: d.args.weight,
        stepIndex: state.stepIndex,
      });
      state.weight = d.args.weight;
      return state;
    },
    {
      validator: (raw) =>
        guard(
          raw,
          'setWeight',
          state.phase === 'paused',
          `Rollout ${input.rolloutId} is ${state.phase}; pause it before setting the weight by hand.`,
        ),
      description: 'Set the live weight by hand while paused',
    },
  );

  /**
   * Waits for `ms`, or less on an abort or a promote. A manual pause holds the wait; on
   * resume the interrupted wait starts over (a pause means "look again before going on").
   */
  const wait = async (ms: number): Promise<void> => {
    while (!aborted() && !skipStep) {
      if (state.phase === 'paused')
        await condition(() => !!aborted() || skipStep || state.phase !== 'paused');
      if (aborted() || skipStep) return;
      const interrupted = await condition(() => !!aborted() || skipStep || state.phase === 'paused', ms);
      if (!interrupted) return;
    }
  };
  /** Pauses for a human; true when they resumed (retry the step), false on promote or abort. */
  const pauseForHuman = async (reason: string): Promise<boolean> => {
    await setPhase('paused', reason);
    await condition(() => !!abort || skipStep || state.phase !== 'paused');
    return !abort && !skipStep;
  };

  const rollback = (reason: string, actor?: string) =>
    // Rollback must run even if the parent cancels the rollout mid-step.
    CancellationScope.nonCancellable(async () => {
      await acts.finishRollout.executeWithOptions({ summary: `rollback: ${reason.slice(0, 80)}` }, [
        { rolloutId: input.rolloutId, status: 'rolled_back', reason, ...(actor ? { actor } : {}) },
      ]);
      state.phase = 'rolled_back';
      state.weight = 0;
      state.reason = reason;
      return { status: 'rolled_back' as const, reason, weight: 0 };
    });

  /** Runs one step; returns a failure reason to roll back on, or null to go on. */
  const runStep = async (step: RolloutStepSpec, since: { at: string }): Promise<string | null> => {
    if ('setWeight' in step) {
      const { since: at } = await acts.setRolloutWeight.executeWithOptions(
        { summary: `setWeight ${step.setWeight}%` },
        [{ rolloutId: input.rolloutId, weight: step.setWeight, stepIndex: state.stepIndex }],
      );
      state.weight = step.setWeight;
      since.at = at;
      return null;
    }
    if ('pause' in step) {
      if (step.pause.durationSeconds !== undefined) await wait(step.pause.durationSeconds * 1000);
      else await pauseForHuman('pause step: waiting for a human to resume or promote');
      return null;
    }
    if ('shadow' in step && patched('live-shadow')) {
      const shadow = step.shadow;
      for (let round = 0; ; round++) {
        const { at } = await acts.setRolloutPhase({
          rolloutId: input.rolloutId,
          phase: 'progressing',
          stepIndex: state.stepIndex,
          reason: null,
        });
        // The candidate answers live inputs for the step's duration; an abort or promote
        // cancels it at once.
        const scope = new CancellationScope();
        const running = scope.run(() =>
          llmActs.shadowLive.executeWithOptions(
            {
              summary: `shadow: candidate answers live inputs beside production for ${shadow.durationSeconds}s`,
              startToCloseTimeout: (shadow.durationSeconds + modelMinutes * 60) * 1000,
              heartbeatTimeout: '2 minutes',
              retry: LLM_RETRY,
            },
            [
              {
                rolloutId: input.rolloutId,
                stepIndex: state.stepIndex,
                round,
                since: at,
                durationSeconds: shadow.durationSeconds,
                maxTraces: shadow.maxTraces,
                sampleRate: shadow.sampleRate,
                maxPassRateDrop: shadow.maxPassRateDrop,
                minTraces: shadow.minTraces,
                seed: input.seed,
              },
            ],
          ),
        );
        const interrupted = condition(() => !!aborted() || skipStep).then(() => null);
        const result = await Promise.race([running, interrupted]);
        if (result === null) {
          scope.cancel();
          await running.catch(() => undefined);
          return null;
        }
        state.lastResult = `shadow ${result.phase}: ${result.reason}`;
        if (result.phase === 'failed') return `shadow failed: ${result.reason}`;
        if (result.phase === 'successful') return null;
        if (!(await pauseForHuman(`shadow inconclusive: ${result.reason}`))) return null;
      }
    }
    if ('replay' in step || 'shadow' in step) {
      const kind = 'replay' in step ? 'replay' : 'shadow';
      const settings =
        'replay' in step
          ? {
              limit: step.replay.traces,
              sampleRate: 1,
              maxPassRateDrop: step.replay.maxPassRateDrop,
              minTraces: step.replay.minTraces,
            }
          : {
              limit: step.shadow.maxTraces,
              sampleRate: step.shadow.sampleRate,
              maxPassRateDrop: step.shadow.maxPassRateDrop,
              minTraces: step.shadow.minTraces,
            };
      for (let round = 0; ; round++) {
        let shadowSince: string | undefined;
        if ('shadow' in step) {
          shadowSince = (
            await acts.setRolloutPhase({
              rolloutId: input.rolloutId,
              phase: 'progressing',
              stepIndex: state.stepIndex,
              reason: null,
            })
          ).at;
          await wait(step.shadow.durationSeconds * 1000);
          if (abort || skipStep) return null;
        }
        const result = await llmActs.compareCandidateOnTraces.executeWithOptions(
          {
            summary: `${kind}: candidate vs production on the same inputs`,
            startToCloseTimeout: modelMinutes * 60_000,
          },
          [
            {
              rolloutId: input.rolloutId,
              stepIndex: state.stepIndex,
              round,
              kind,
              ...(shadowSince ? { since: shadowSince } : {}),
              ...settings,
              seed: input.seed,
            },
          ],
        );
        state.lastResult = `${kind} ${result.phase}: ${result.reason}`;
        if (result.phase === 'failed') return `${kind} failed: ${result.reason}`;
        if (result.phase === 'successful') return null;
        if (!(await pauseForHuman(`${kind} inconclusive: ${result.reason}`))) return null;
      }
    }
    const template = { ...config.analysis, ...step.analysis };
    let round = 0;
    for (;;) {
      const phases: MeasurementPhase[] = [];
      for (;;) {
        await wait(template.intervalSeconds * 1000);
        if (abort || skipStep) return null;
        const m = await llmActs.measureRollout.executeWithOptions(
          {
            summary: `analysis at ${state.weight}% (measurement ${round + 1})`,
            startToCloseTimeout: modelMinutes * 60_000,
          },
          [
            {
              rolloutId: input.rolloutId,
              stepIndex: state.stepIndex,
              round: round++,
              since: since.at,
              template,
              escalationActions: config.escalationActions,
              seed: input.seed,
            },
          ],
        );
        phases.push(m.phase);
        const run = analysisPhase(phases, template);
        state.lastResult = `analysis ${m.phase} (${run.successful} ok, ${run.failed} failed, ${run.inconclusive} inconclusive): ${m.reason}`;
        if (run.phase === 'failed') return `analysis failed at ${state.weight}%: ${m.reason}`;
        if (run.phase === 'successful') return null;
        if (run.phase === 'inconclusive') break;
      }
      if (!(await pauseForHuman(`analysis inconclusive at ${state.weight}%: ${state.lastResult}`)))
        return null;
    }
  };

  const { startedAt } = await acts.startRollout.executeWithOptions(
    { summary: `rollout ${input.candidateVersionId} over ${input.baselineVersionId}` },
    [{ ...input, workflowId: workflowInfo().workflowId }],
  );
  // Analysis counts traffic from the last weight change; before any, from the database time
  // the rollout started (not the workflow's clock: traces are stamped by the database).
  const since = { at: startedAt };
  try {
    for (; state.stepIndex < config.steps.length; state.stepIndex++) {
      if (state.phase === 'paused') await condition(() => !!abort || skipStep || state.phase !== 'paused');
      const stop = aborted();
      if (stop) return await rollback(stop.reason, stop.actor);
      if (promoteFull) break;
      skipStep = false;
      const failure = await runStep(config.steps[state.stepIndex]!, since);
      const stopped = aborted();
      if (stopped) return await rollback(stopped.reason, stopped.actor);
      if (failure) return await rollback(failure);
      if (promoteFull) break;
    }
  } catch (error) {
    await rollback(`rollout failed: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
  await acts.finishRollout.executeWithOptions({ summary: 'complete: production → candidate' }, [
    {
      rolloutId: input.rolloutId,
      status: 'completed',
      reason: promoteFull ? 'promoted to 100% by a human' : 'all steps passed',
    },
  ]);
  state.phase = 'completed';
  state.weight = 100;
  state.reason = promoteFull ? 'promoted to 100% by a human' : 'all steps passed';
  return { status: 'completed', reason: state.reason, weight: 100 };
}

/**
 * Reads the argument of a rollout Update accepted before decisions were signed (a free-text
 * actor beside the action's arguments); only replayed histories still carry one.
 */
function unsigned<Args extends object>(schema: { parse(raw: unknown): Args & { actor: string } }) {
  return (raw: unknown) => {
    const { actor, ...args } = schema.parse(raw);
    return { person: actor, args };
  };
}
