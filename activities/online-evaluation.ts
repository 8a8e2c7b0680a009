import { Context, cancellationSignal, heartbeat, sleep } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { startCycle } from '../cycles/cycle-service.js';
import { agentConfig, storedAgentConfigs } from '../registry/store/agent-repository.js';
import { judgedSteps } from '../evaluation/agent-trajectory.js';
import { runCodeEvaluators } from '../evaluation/code-evaluators.js';
import { planJudgeCalls } from '../evaluation/evaluation-cascade.js';
import { DriftConfig, HOUR_MS } from '../evaluation/drift/drift-config.js';
import { evaluateDrift, type DriftAlert } from '../evaluation/drift/drift-detector.js';
import { driftAlertMessage } from '../evaluation/drift/drift-alert-message.js';
import { driftObservation, unitVector } from '../evaluation/drift/drift-observation.js';
import {
  driftAlert,
  driftState,
  driftTraceRows,
  dropInputEmbeddingsBefore,
  firstTraceAt,
  insertDriftAlert,
  markDriftAlertNotified,
  saveDriftState,
  saveInputEmbeddings,
  storedInputEmbeddings,
  traceInputs,
} from '../evaluation/store/drift-repository.js';
import { JudgeBudget, utcDayStart } from '../evaluation/online/judge-budget.js';
import { activeRubrics } from '../evaluation/store/rubric-repository.js';
import {
  dearestOnlineTraceSince,
  dueTraceIds,
  insertOnlineScores,
  lastOnlineWindowEnd,
  liveTraceRows,
  markEvaluated,
  onlineSpentSince,
  recordOnlineRun,
  runTotals,
  tracesBetween,
} from '../evaluation/store/online-evaluation-repository.js';
import { boundedMap } from '../llm/bounded-map.js';
import { judgeWithRubric } from '../llm/rubric-judge.js';
import { notifyAgent } from '../notify/agent-notice.js';
import type { CycleInputArg } from '../schemas/cycle-input.js';
import { OnlineEvaluationConfig } from '../schemas/online-evaluation-config.js';
import { ConflictError } from '../schemas/user-error.js';
import { compileRedactor } from '../traces/pii-redaction.js';
import { traceFromRow } from '../traces/store/trace-reader.js';
import { userText } from '../traces/user-text.js';
import { driftCycleWorkflowId, scheduleId } from '../workflows/workflow-ids.js';
import type { ActivityDeps } from './activity-deps.js';
import { judgeExamples } from './judge-examples.js';

/**
 * The judge's seed online, the cycles' default seed: a trace online evaluation judged is
 * answered from the model cache when a cycle samples it, instead of being paid for twice.
 */
const ONLINE_JUDGE_SEED = 1;
/** The first run of an agent looks back this far. */
const FIRST_RUN_LOOKBACK_MS = HOUR_MS;
const EMBED_BATCH = 64;

export interface OnlineRunInput {
  agent: string;
  /** The run's time (the workflow's clock), ISO. */
  at: string;
  /** Names the run: a retried activity records it once. */
  runKey: string;
}

export interface OnlineRunSummary {
  agent: string;
  enabled: boolean;
  windowStart: string;
  windowEnd: string;
  /** Traces started in the window, scored or not. */
  considered: number;
  /** Traces of the window in the evaluated share this run looked at (all of them are scored). */
  sampled: number;
  scored: number;
  failing: number;
  /** Traces whose judge rubrics were skipped because the day's cap was reached. */
  skippedForCap: number;
  judgeCalls: number;
  tokens: number;
  costUsd: number;
  spentTodayUsd: number;
}

export interface DriftCheckInput {
  agent: string;
  at: string;
  /** The task queue an early cycle is started on (the scheduling workflow's). */
  taskQueue: string;
}

export interface DriftCheckSummary {
  agent: string;
  checked: boolean;
  /** Why nothing was tested: disabled, not due, or the reference is still too short. */
  reason?: string;
  traces?: number;
  testsCounted?: number;
  minPValue?: number;
  alertId?: string;
  cycleId?: string | null;
  findings?: number;
}

/** The Temporal client of the worker running this activity. */
function workerClient(): Client {
  return Context.current().client;
}

export function createOnlineEvaluationActivities({ db, llm, llmConcurrency, webhook }: ActivityDeps) {
  return {
    /**
     * Agents whose online evaluation or drift alerts are on (configurations that validate),
     * and the run's time: the workflow never reads a clock, and every agent of a run is
     * evaluated as of one instant.
     */
    async onlineEvaluationAgents(): Promise<{
      at: string;
      agents: { agent: string; online: boolean; drift: boolean }[];
    }> {
      const at = new Date().toISOString();
      const out: { agent: string; online: boolean; drift: boolean }[] = [];
      // One read for every agent: this runs every 5 minutes whether or not anyone uses it.
      for (const { id, config } of await storedAgentConfigs(db)) {
        const online = OnlineEvaluationConfig.safeParse(config.online ?? {});
        const drift = DriftConfig.safeParse(config.drift ?? {});
        const on = online.success && online.data.enabled;
        const watching = drift.success && drift.data.enabled;
        if (on || watching) out.push({ agent: id, online: on, drift: watching });
      }
      return { at, agents: out };
    },

    /**
     * Scores the agent's live traces that arrived since the last run, in the configured
     * share, with the cycle's evaluators: code checks on each, then the judge's active
     * rubrics where the cascade asks for them, within the day's cost cap. The raw trace is
     * redacted by the agent's policy before any model sees it, as in a cycle. Idempotent: a
     * trace scored before is not due again, scores are written once, and a retry asks the
     * judge through the model cache.
     */
    async evaluateOnline(args: OnlineRunInput): Promise<OnlineRunSummary> {
      const config = await agentConfig(db, args.agent);
      const online = config.online;
      const at = new Date(args.at);
      const windowEnd = new Date(at.getTime() - online.settleSeconds * 1000);
      const last = await lastOnlineWindowEnd(db, args.agent, args.runKey);
      const windowStart = new Date(
        last
          ? last.getTime() - online.lateArrivalMinutes * 60_000
          : windowEnd.getTime() - FIRST_RUN_LOOKBACK_MS,
      );
      const empty = {
        agent: args.agent,
        enabled: online.enabled,
        windowStart: windowStart.toISOString(),
        windowEnd: windowEnd.toISOString(),
        considered: 0,
        sampled: 0,
        scored: 0,
        failing: 0,
        skippedForCap: 0,
        judgeCalls: 0,
        tokens: 0,
        costUsd: 0,
        spentTodayUsd: 0,
      };
      if (!online.enabled || windowEnd <= windowStart) return empty;

      const range = { agent: args.agent, from: windowStart, to: windowEnd };
      const [considered, due] = await Promise.all([
        tracesBetween(db, args.agent, windowStart, windowEnd),
        dueTraceIds(db, { ...range, share: online.sampleShare, limit: online.maxTracesPerRun }),
      ]);
      // A full batch may leave due traces behind (a backlog after an outage, or more traffic
      // than one run scores): the run then covers only up to its last trace, and the next one
      // goes on from there instead of from now.
      const coveredUntil =
        due.length >= online.maxTracesPerRun && due.length > 0 ? due[due.length - 1]!.started_at : windowEnd;
      const redactor = compileRedactor(config.redaction);
      const traces = (
        await liveTraceRows(
          db,
          args.agent,
          due.map((d) => d.id),
        )
      ).map((row) => {
        const { input, output, expected, expected_actions, feedback_text, spans, attributes } = row;
        const { value } = redactor.redactValue({
          input,
          output,
          expected,
          expected_actions,
          feedback_text,
          spans,
          attributes,
        });
        return { startedAt: row.started_at, record: traceFromRow({ ...row, ...(value as object) }) };
      });

      const ev = config.evaluation;
      const dayStart = utcDayStart(at);
      const [spentBefore, dearestBefore] = await Promise.all([
        onlineSpentSince(db, args.agent, dayStart),
        dearestOnlineTraceSince(db, args.agent, dayStart),
      ]);
      const budget = new JudgeBudget(online.dailyCostCapUsd, spentBefore, dearestBefore);
      const examples = await judgeExamples(db, args.agent, ev.judge.dimensions, ev.judge.fewShot);
      const rubrics = await activeRubrics(db, args.agent, ev.judge.dimensions);
      let done = 0;
      // Paced: trace i starts no sooner than i / maxTracesPerSecond after the run's start, so
      // the run's reads and writes are spread out instead of coming as one burst beside ingest.
      const paceStartMs = Date.now();
      const paceMs = 1000 / online.maxTracesPerSecond;
      const scoreOne = async ({ startedAt, record }: (typeof traces)[number], index: number) => {
        for (let wait = paceStartMs + index * paceMs - Date.now(); wait > 0;) {
          // In steps, heartbeating: a slow pace must not look like a stuck activity.
          await sleep(Math.min(wait, 10_000));
          heartbeat({ done, of: traces.length });
          wait = paceStartMs + index * paceMs - Date.now();
        }
        const where = { agent: args.agent, traceId: record.id, startedAt };
        const code = runCodeEvaluators(record, ev.code, config.tools);
        let failed = code.some((e) => e.label === 'fail');
        await insertOnlineScores(db, where, code);
        const plan = planJudgeCalls(code, ev.judge.dimensions, ev.cascade, `online|${record.id}`);
        const spent = { judgeCalls: 0, tokens: 0, costUsd: 0 };
        const judged = plan.judge.length > 0 && budget.tryStart();
        if (judged) {
          try {
            const steps = judgedSteps(record);
            for (const dimension of plan.judge) {
              const rubric = rubrics.get(dimension)!;
              const outcome = await judgeWithRubric(
                llm.judge,
                rubric,
                { messages: record.input.messages, steps },
                {
                  seed: ONLINE_JUDGE_SEED,
                  repeats: ev.judge.repeats,
                  examples: examples.get(dimension) ?? [],
                  price: ev.judge.priceUsdPerMillionTokens,
                  signal: cancellationSignal(),
                },
              );
              spent.judgeCalls += outcome.calls;
              spent.tokens += outcome.tokens;
              spent.costUsd += outcome.result?.costUsd ?? 0;
              // An evaluator error is paid and counted, not stored: online scores hold verdicts.
              if (outcome.result && 'score' in outcome.result) {
                failed ||= outcome.result.label === 'fail';
                await insertOnlineScores(db, where, [outcome.result], rubric.version);
              }
            }
          } finally {
            budget.finish(spent.costUsd);
          }
        }
        // Looked at: never due again, and its cost counts toward the day's cap from now on.
        await markEvaluated(db, {
          trace_id: record.id,
          agent_id: args.agent,
          trace_started_at: startedAt,
          run_key: args.runKey,
          failing: failed,
          judged,
          skipped_for_cap: plan.judge.length > 0 && !judged,
          judge_calls: spent.judgeCalls,
          tokens: spent.tokens,
          cost_usd: spent.costUsd,
        });
        heartbeat({ done: ++done, of: traces.length });
      };
      // The first trace alone: until one trace's cost is known the budget cannot share out the cap.
      await boundedMap(traces.slice(0, 1), 1, scoreOne);
      await boundedMap(traces.slice(1), llmConcurrency, (trace, i) => scoreOne(trace, i + 1));

      // The run's totals include what an earlier attempt of it (crashed, retried) looked at.
      const totals = await runTotals(db, args.runKey);
      const summary: OnlineRunSummary = {
        ...empty,
        windowEnd: coveredUntil.toISOString(),
        considered,
        sampled: totals.traces,
        scored: totals.traces,
        failing: totals.failing,
        skippedForCap: totals.skippedForCap,
        judgeCalls: totals.judgeCalls,
        tokens: totals.tokens,
        costUsd: totals.costUsd,
        spentTodayUsd: budget.spentUsd,
      };
      await recordOnlineRun(db, {
        agent_id: args.agent,
        run_key: args.runKey,
        window_start: windowStart,
        window_end: coveredUntil,
        considered,
        sampled: totals.traces,
        scored: totals.traces,
        failing: totals.failing,
        skipped_for_cap: totals.skippedForCap,
        judge_calls: totals.judgeCalls,
        tokens: totals.tokens,
        cost_usd: totals.costUsd,
      });
      return summary;
    },

    /**
     * One drift check of the agent at `at`, when one is due: the detector over the stored
     * traces of its reference and current windows (online verdicts, feedback, escalations,
     * errors, latency, cost, input embeddings). An alert is stored (id from the agent and
     * time), starts the early cycle `cycle-<agent>-drift-<time>` when configured (a retry
     * cannot start it twice), goes out on the agent's webhook with the evidence, and only
     * then moves the detector to its new epoch — so a retry after a crash finishes the
     * same alert rather than losing it.
     */
    async checkDrift(args: DriftCheckInput): Promise<DriftCheckSummary> {
      const config = await agentConfig(db, args.agent);
      const drift = config.drift;
      if (!drift.enabled) return { agent: args.agent, checked: false, reason: 'drift alerts are off' };
      const at = new Date(args.at);
      const nowMs = at.getTime();
      const stored = await driftState(db, args.agent);
      if (
        stored?.last_check_at &&
        nowMs - stored.last_check_at.getTime() < drift.checkEveryMinutes * 60_000
      ) {
        return { agent: args.agent, checked: false, reason: 'not due' };
      }
      const horizon = nowMs - (drift.currentWindowHours + drift.referenceWindowHours) * HOUR_MS;
      const first = stored ? undefined : await firstTraceAt(db, args.agent);
      const state = stored
        ? { epochStartMs: stored.epoch_start.getTime(), prototypes: stored.prototypes }
        : { epochStartMs: Math.max(first?.getTime() ?? nowMs, horizon), prototypes: null };
      const from = new Date(Math.max(state.epochStartMs, horizon));
      const rows = await driftTraceRows(db, args.agent, from, at);
      heartbeat({ traces: rows.length });

      let embeddings = new Map<string, number[]>();
      if (drift.metrics.includes('input') && llm.embedder) {
        // Each trace is embedded once and its vector stored: the windows slide every check,
        // and embedding them whole again each time paid for every vector again.
        const model = llm.embedder.model;
        embeddings = await storedInputEmbeddings(db, args.agent, model, from, at);
        const startedAt = new Map(rows.map((r) => [r.id, r.started_at]));
        const missing = rows.filter((r) => !embeddings.has(r.id)).map((r) => r.id);
        for (let i = 0; i < missing.length; i += EMBED_BATCH) {
          const inputs = await traceInputs(db, args.agent, missing.slice(i, i + EMBED_BATCH), from, at);
          const vectors = await llm.embedder.embed(
            inputs.map((r) => userText(r.input)),
            cancellationSignal(),
          );
          const stored = inputs.map((r, j) => ({
            agent_id: args.agent,
            trace_id: r.id,
            trace_started_at: startedAt.get(r.id)!,
            model,
            embedding: unitVector(vectors[j]!),
          }));
          await saveInputEmbeddings(db, stored);
          for (const row of stored) embeddings.set(row.trace_id, row.embedding);
          heartbeat({ embedded: i + inputs.length, of: missing.length });
        }
        // No later check looks before `from` again: the windows only move forward.
        await dropInputEmbeddingsBefore(db, args.agent, from);
      }
      const observations = rows.map((r) => driftObservation(r, embeddings.get(r.id)));
      const evaluated = evaluateDrift({ config: drift, state, observations, nowMs });
      // A retry finishes the alert its first attempt stored, whatever the traces say now.
      const earlier = await driftAlert(db, `drift-${args.agent}-${nowMs}`);
      const check: typeof evaluated = earlier
        ? {
            ...evaluated,
            tested: true,
            alert: {
              atMs: earlier.at.getTime(),
              referenceStartMs: earlier.reference_start.getTime(),
              currentStartMs: earlier.current_start.getTime(),
              findings: earlier.findings as DriftAlert['findings'],
              driftedTraceIds: earlier.drifted_trace_ids,
              testsCounted: earlier.tests_counted,
            },
          }
        : evaluated;

      let alertId: string | undefined;
      let cycleId: string | null = null;
      if (check.alert) {
        alertId = `drift-${args.agent}-${nowMs}`;
        const alert = check.alert;
        cycleId = earlier
          ? earlier.cycle_id
          : drift.startCycleOnAlert
            ? driftCycleWorkflowId(args.agent, nowMs)
            : null;
        if (!earlier) {
          await insertDriftAlert(db, {
            id: alertId,
            agent_id: args.agent,
            at,
            reference_start: new Date(alert.referenceStartMs),
            current_start: new Date(alert.currentStartMs),
            findings: JSON.stringify(alert.findings),
            drifted_trace_ids: JSON.stringify(alert.driftedTraceIds),
            tests_counted: alert.testsCounted,
            cycle_id: cycleId,
          });
        }
        if (cycleId) await startEarlyCycle(workerClient(), args.agent, cycleId, args.taskQueue);
        if (!earlier?.notified) {
          await notifyAgent(
            db,
            {
              agent: args.agent,
              cycleId,
              message: driftAlertMessage({ agent: args.agent, alertId, alert, cycleId }),
            },
            webhook,
          );
          await markDriftAlertNotified(db, alertId);
        }
      }
      const next = check.alert ? { epochStartMs: nowMs, prototypes: null } : check.state;
      await saveDriftState(db, {
        agent_id: args.agent,
        epoch_start: new Date(next.epochStartMs),
        prototypes: next.prototypes,
        last_check_at: at,
        last_check: {
          tested: check.tested,
          traces: rows.length,
          testsCounted: check.testsCounted,
          minPValue: check.minPValue,
          alpha: check.alpha,
          alertId: alertId ?? null,
        },
      });
      return {
        agent: args.agent,
        checked: check.tested,
        ...(check.tested ? {} : { reason: 'the reference window is still too short' }),
        traces: rows.length,
        testsCounted: check.testsCounted,
        minPValue: check.minPValue,
        ...(alertId ? { alertId, cycleId, findings: check.alert?.findings.length ?? 0 } : {}),
      };
    },
  };
}

/**
 * Starts the agent's next cycle now, with its weekly schedule's settings when it has a
 * schedule. The id names this alert's cycle, so a second start (a retried activity) finds it
 * running or done and does nothing.
 */
async function startEarlyCycle(
  client: Client,
  agent: string,
  cycleId: string,
  taskQueue: string,
): Promise<void> {
  let input: CycleInputArg = { agent };
  try {
    const described = await client.schedule.getHandle(scheduleId(agent)).describe();
    const action = described.action as { args?: unknown[] };
    const scheduled = action.args?.[0];
    if (scheduled && typeof scheduled === 'object') input = { ...(scheduled as CycleInputArg), agent };
  } catch {
    // No weekly schedule: the cycle defaults.
  }
  try {
    await startCycle(client, { taskQueue, input, workflowId: cycleId });
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
}
