import { measure, type Measurement, type VariantMetrics } from '../release/rollout-analysis.js';
import { slackMessage } from '../notify/slack-message.js';
import { versionById } from '../registry/store/prompt-repository.js';
import { moveLabel } from '../registry/label-move-service.js';
import {
  AnalysisTemplate,
  type AnalysisTemplateArg,
  type RolloutMetricName,
} from '../schemas/rollout-config.js';
import {
  databaseNow,
  finishRunningRollout,
  rolloutById,
  setRunningPhase,
  setRunningWeight,
  startRolloutRecord,
  type StartedRollout,
} from '../release/store/rollout-repository.js';
import { recordedStepResult, recordStepResult } from '../release/store/rollout-step-records.js';
import { versionTrafficMetrics, versionTrafficSample } from '../traces/store/rollout-traffic.js';
import type { ActivityDeps } from './activity-deps.js';
import { notifyAgent } from '../notify/agent-notice.js';
import { judgeSampledTraces } from './rollout-judging.js';
import { CoachingSet } from '../schemas/coaching.js';
import { settleCoachingSet } from '../coaching/coaching-set-service.js';

export type StartRolloutInput = StartedRollout;

/** Traffic of one prompt version in a window, as the analysis metrics need it. */
async function variantMetrics(
  deps: ActivityDeps,
  args: {
    agent: string;
    version: number;
    since: Date;
    until: Date;
    escalationActions: readonly string[];
    judgeSample: number;
    wantJudge: boolean;
    seed: number;
  },
): Promise<VariantMetrics> {
  const { db } = deps;
  const window = { agent: args.agent, version: args.version, since: args.since, until: args.until };
  const row = await versionTrafficMetrics(db, window, args.escalationActions);
  const values: Partial<Record<RolloutMetricName, number | null>> = {
    success_rate: row.success_rate,
    negative_feedback_rate: row.negative_feedback_rate,
    escalation_rate: row.escalation_rate,
    error_rate: row.error_rate,
    latency_p95_ms: row.latency_p95_ms,
    cost_per_trace_usd: row.cost_per_trace_usd,
  };
  let judged = 0;
  if (args.wantJudge && args.judgeSample > 0) {
    // A fixed pseudo-random slice of the window (by the trace's stored sample key), so a
    // retried activity judges the same traces and the LLM cache answers.
    const sampled = await versionTrafficSample(db, window, args.judgeSample);
    const verdicts = await judgeSampledTraces(deps, args.agent, sampled, args.seed);
    judged = verdicts.length;
    values.judge_pass_rate = judged === 0 ? null : verdicts.filter(Boolean).length / judged;
  }
  return { samples: row.samples, judged, values };
}

export function createRolloutActivities(deps: ActivityDeps) {
  const { db } = deps;
  // Label moves announce themselves on the agent's webhook, through the worker's sender.
  const labelOptions = deps.webhook ? { webhook: deps.webhook } : {};
  const notify = (args: Parameters<typeof notifyAgent>[1]) => notifyAgent(db, args, deps.webhook);
  const rolloutRow = (id: string) => rolloutById(db, id);

  return {
    async startRollout(args: StartRolloutInput): Promise<{ startedAt: string }> {
      const started = await startRolloutRecord(db, args);
      // The candidate label names what is being rolled out, whoever started it.
      await moveLabel(
        db,
        args.agent,
        'candidate',
        args.candidateVersionId,
        args.createdBy,
        `rollout ${args.rolloutId} started`,
        labelOptions,
      );
      await notify({
        agent: args.agent,
        cycleId: args.cycleId,
        message: slackMessage({
          event: 'rollout_started',
          title: `Rollout started for ${args.agent}: ${args.candidateVersionId} over ${args.baselineVersionId}`,
          lines: [`steps: ${args.config.steps.length}`, `started by ${args.createdBy}`],
          data: { rolloutId: args.rolloutId, workflowId: args.workflowId },
        }),
      });
      return { startedAt: new Date(started).toISOString() };
    },

    /** Returns the database time the weight took effect: analysis counts traffic from then on. */
    async setRolloutWeight(args: {
      rolloutId: string;
      weight: number;
      stepIndex: number;
    }): Promise<{ since: string }> {
      const now = await setRunningWeight(db, args);
      return { since: new Date(now).toISOString() };
    },

    /** The phase operators see (`flywheel rollout status`) and why it paused. */
    async setRolloutPhase(args: {
      rolloutId: string;
      phase: 'progressing' | 'paused';
      stepIndex: number;
      reason: string | null;
    }): Promise<{ at: string }> {
      const now = await setRunningPhase(db, args);
      if (args.phase === 'paused') {
        const rollout = await rolloutRow(args.rolloutId);
        await notify({
          agent: rollout.agent_id,
          cycleId: rollout.cycle_id,
          message: slackMessage({
            event: 'rollout_paused',
            title: `Rollout ${args.rolloutId} paused at ${rollout.weight}%`,
            lines: [
              args.reason ?? 'paused',
              `resume, promote or abort: flywheel rollout resume|promote|abort ${rollout.workflow_id ?? args.rolloutId}`,
            ],
            data: { rolloutId: args.rolloutId },
          }),
        });
      }
      return { at: new Date(now ?? new Date()).toISOString() };
    },

    /**
     * One measurement: candidate and baseline traffic in the same window (since the
     * analysis began), each metric checked against its conditions. With no baseline traffic
     * in the window (the candidate serves 100%), the baseline is read from the same length
     * of time before the rollout started.
     *
     * Rate metrics are judged by the sequential test over all traffic since the step began
     * (release/rollout-analysis.ts), so every measurement of a step is one more look at the same
     * growing sample, which the test allows.
     */
    async measureRollout(args: {
      rolloutId: string;
      stepIndex: number;
      round: number;
      since: string;
      /** Input form: rollouts started before `alpha`, `power` and `minimumDetectableEffect` existed carry none. */
      template: AnalysisTemplateArg;
      escalationActions: string[];
      seed: number;
    }): Promise<Measurement> {
      const done = await recordedStepResult<Measurement>(db, args);
      if (done) return done;
      const template = AnalysisTemplate.parse(args.template);
      const rollout = await rolloutRow(args.rolloutId);
      const [candidate, baseline] = await Promise.all([
        versionById(db, rollout.candidate_version_id),
        versionById(db, rollout.baseline_version_id),
      ]);
      const now = await databaseNow(db);
      const since = new Date(args.since);
      const until = new Date(now);
      const wantJudge = template.metrics.some((m) => m.name === 'judge_pass_rate');
      const common = {
        agent: rollout.agent_id,
        escalationActions: args.escalationActions,
        judgeSample: template.judgeSample,
        wantJudge,
        seed: args.seed + args.round,
      };
      const c = await variantMetrics(deps, { ...common, version: candidate.version, since, until });
      let b = await variantMetrics(deps, { ...common, version: baseline.version, since, until });
      if (b.samples < template.minSamples) {
        const startedAt = new Date(rollout.started_at);
        const span = until.getTime() - since.getTime();
        b = await variantMetrics(deps, {
          ...common,
          version: baseline.version,
          since: new Date(startedAt.getTime() - Math.max(span, 3600 * 1000)),
          until: startedAt,
        });
      }
      const result = measure(template, c, b);
      await recordStepResult(db, args, {
        weight: rollout.weight,
        kind: 'analysis',
        verdict: result.phase,
        result,
      });
      return result;
    },

    /**
     * Completion moves `production` to the candidate; rollback sets the weight to 0 and
     * restores `production` to the baseline. Either way the `candidate` label is cleared.
     */
    async finishRollout(args: {
      rolloutId: string;
      status: 'completed' | 'rolled_back';
      reason: string;
      actor?: string;
    }): Promise<void> {
      const rollout = await rolloutRow(args.rolloutId);
      // The coaching set goes with its version: promoted with it, retired when it rolls back.
      // Promotion is the approver's (the rollout's author) unless a person finished it. Only
      // members still candidates move, so a retry after the status flipped settles the rest.
      const set = rollout.coaching === null ? [] : CoachingSet.parse(rollout.coaching);
      const settle = () =>
        set.length === 0
          ? Promise.resolve([])
          : settleCoachingSet(
              { db, artifacts: labelOptions },
              rollout.agent_id,
              set,
              args.status,
              args.actor ?? rollout.created_by,
              `rollout ${rollout.id} ${args.status === 'completed' ? 'completed' : `rolled back: ${args.reason}`}`,
            );
      if (rollout.status !== 'running') {
        if (rollout.status === args.status) await settle();
        return;
      }
      const actor = args.actor ?? 'flywheel';
      // The status flips first (guarded on `running`), so a retried or concurrent finish
      // cannot move the labels twice.
      const flipped = await finishRunningRollout(db, args);
      if (!flipped) return;
      await moveLabel(
        db,
        rollout.agent_id,
        'production',
        args.status === 'completed' ? rollout.candidate_version_id : rollout.baseline_version_id,
        actor,
        `rollout ${rollout.id} ${args.status === 'completed' ? 'completed' : `rolled back: ${args.reason}`}`,
        labelOptions,
      );
      await moveLabel(
        db,
        rollout.agent_id,
        'candidate',
        null,
        actor,
        `rollout ${rollout.id} ${args.status}`,
        labelOptions,
      );
      const settled = await settle();
      const coachingLine =
        settled.length === 0
          ? []
          : [
              `coaching ${args.status === 'completed' ? 'promoted' : 'retired'}: ` +
                settled.map((m) => (m.to ? m.id : `${m.id} (${m.detail})`)).join(', '),
            ];
      await notify({
        agent: rollout.agent_id,
        cycleId: rollout.cycle_id,
        message: slackMessage({
          event: args.status === 'completed' ? 'rollout_completed' : 'rollout_rolled_back',
          title:
            args.status === 'completed'
              ? `Rollout ${rollout.id} completed: ${rollout.candidate_version_id} is production`
              : `Rollout ${rollout.id} rolled back to ${rollout.baseline_version_id}`,
          lines: [args.reason, ...coachingLine],
          data: { rolloutId: rollout.id, status: args.status },
        }),
      });
    },
  };
}
