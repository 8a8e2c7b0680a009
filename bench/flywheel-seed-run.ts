import {
  annotationItems,
  approveCycle,
  cycleStatus,
  rejectCycle,
  startCycle,
  submitAnnotations,
} from '../cycles/cycle-service.js';
import type { LlmClient } from '../llm/llm-client.js';
import { ensureAgent } from '../registry/agent-service.js';
import { createAgentToken } from '../registry/agent-token-service.js';
import { moveLabel } from '../registry/label-move-service.js';
import { createPromptVersion, labelledVersion } from '../registry/prompt-service.js';
import { versionById } from '../registry/store/prompt-repository.js';
import { controlRollout, rolloutState } from '../release/rollout-service.js';
import { asPerson } from '../test/helpers/test-decision-keys.js';
import { rolloutById } from '../release/store/rollout-repository.js';
import type { CycleInputArg } from '../schemas/cycle-input.js';
import type { CycleStatus } from '../schemas/cycle-status.js';
import { sampledTraces } from '../traces/store/sample-repository.js';
import { scenarioTools, type Scenario } from '../test/simulator/scenario.js';
import type { CycleResult } from '../workflows/cycle-workflow.js';
import { BenchTraffic } from './bench-traffic.js';
import { usageSince, type LlmUsage } from './counting-llm-client.js';
import type { FlywheelStack } from './flywheel-stack.js';
import { reviewerLabels, type ReviewerLabel } from './simulated-reviewers.js';
import { contentOf, trueSuccess, type HeldOutRequest } from './true-success.js';
import type { SeedWeek } from './week-summary.js';
import { judgeWeek } from './week-verdicts.js';

export interface SeedRunOptions {
  stack: FlywheelStack;
  scenario: Scenario;
  seed: number;
  weeks: number;
  tracesPerWeek: number;
  reviewerError: number;
  labelsPerWeek: number;
  heldOut: readonly HeldOutRequest[];
  /** The agent model that scores versions on the held-out set (not counted as the loop's). */
  scorer: LlmClient;
  /** The agent model the simulated users talk to. */
  userAgent: LlmClient;
  /** The rollout's analysis interval (default 300 s), the one duration the bench shortens there. */
  analysisIntervalSeconds: number;
  annotationDeadlineSeconds: number;
  /** Live traffic while the rollout runs, in traces per second. */
  rolloutTrafficPerSecond: number;
  /** Resumes of a rollout paused on an inconclusive analysis before the operator aborts it. */
  maxResumes: number;
  /** Approve a gate whose verdict is `inconclusive` too (default: only `pass` is approved). */
  approveInconclusive: boolean;
  cycleTimeoutSeconds: number;
  log: (line: string) => void;
}

export interface SeedWeekRecord extends SeedWeek {
  week: number;
  cycleId: string;
  windowDays: number;
  trafficTraces: number;
  productionVersion: number;
  candidateVersion: number | null;
  candidateTrueSuccess: number | null;
  candidateDelta: number | null;
  rolloutReason: string | null;
  rolloutResumes: number;
  gate: { verdict: string; failingAssertion: string | null } | null;
  optimization: CycleStatus['optimization'] | null;
  annotation: (NonNullable<CycleStatus['annotation']> & { submitted: number; refused: number }) | null;
  sample: CycleStatus['sample'] | null;
  calibration: CycleStatus['calibration'] | null;
  dataset: CycleStatus['dataset'] | null;
  error?: string;
}

export interface SeedRun {
  seed: number;
  agent: string;
  baseline: number;
  weeks: SeedWeekRecord[];
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * K simulated weeks of one agent: each week the users' traffic, then a cycle started as a
 * schedule would start it, driven by simulated reviewers, an approver who approves what the
 * gate passed, and an operator who resumes a rollout paused for lack of evidence; after
 * the week, production's true success on the held-out set.
 */
export async function runSeed(o: SeedRunOptions): Promise<SeedRun> {
  const { stack, seed } = o;
  const { db, client } = stack;
  const agent = `${o.scenario.name.replace(/[^A-Za-z0-9._-]/g, '-')}-s${seed}`;
  const scenario: Scenario = { ...o.scenario, agentId: agent };
  const log = (line: string) => o.log(`${agent} │ ${line}`);
  const taskQueue = `bench-flywheel-${agent}`;

  await ensureAgent(
    db,
    agent,
    {
      tools: scenarioTools(scenario),
    },
    'bench',
    'bench:flywheel: the default configuration, tools only',
  );
  const v1 = await createPromptVersion(db, agent, scenario.basePrompt, 'seed', null);
  await moveLabel(db, agent, 'production', v1.id, 'bench', 'initial production prompt');
  const { token } = await createAgentToken(db, {
    agent,
    scopes: ['ingest', 'feedback', 'resolve'],
    createdBy: 'bench',
  });
  const worker = await stack.startWorker(scenario, taskQueue);
  const traffic = new BenchTraffic({
    apiUrl: stack.api.url,
    token,
    scenario,
    agent: o.userAgent,
    seed,
    idPrefix: agent,
  });

  const scores = new Map<string, number>();
  const score = async (v: { id: string; text: string; config: unknown }) => {
    if (!scores.has(v.id)) scores.set(v.id, await trueSuccess(o.scorer, contentOf(scenario, v), o.heldOut));
    return scores.get(v.id)!;
  };
  const baseline = await score(v1);
  const run: SeedRun = { seed, agent, baseline, weeks: [] };
  let previous = baseline;
  let windowStartMs = Date.now() - 60_000;
  try {
    for (let week = 1; week <= o.weeks; week++) {
      const started = performance.now();
      const usageBefore = worker.usage();
      const sentBefore = traffic.sent;
      await traffic.send(o.tracesPerWeek);
      const cycleStartMs = Date.now();
      const windowDays = Math.max((cycleStartMs - windowStartMs) / 86_400_000, 1 / 86_400);
      windowStartMs = cycleStartMs;
      const cycleId = `cycle-${agent}-w${week}`;
      const input: CycleInputArg = {
        agent,
        seed: seed * 1000 + week,
        windowDays,
        annotationDeadlineSeconds: o.annotationDeadlineSeconds,
        approvalDeadlineSeconds: 3600,
        rollout: { analysis: { intervalSeconds: o.analysisIntervalSeconds } },
      };
      await startCycle(client, { taskQueue, workflowId: cycleId, input });
      const drive = await driveCycle(o, { cycleId, scenario, traffic, log, week });
      const production = (await labelledVersion(db, agent, 'production'))!;
      const productionScore = await score(production);
      const status = drive.result?.status ?? null;
      const outcome = drive.result?.outcome ?? 'bench_error';
      let candidateVersion: number | null = null;
      let candidateScore: number | null = null;
      let loopTimeSeconds: number | null = null;
      let rolloutReason: string | null = null;
      if (status?.rollout?.rolloutId) {
        const rollout = await rolloutById(db, status.rollout.rolloutId);
        const candidate = await versionById(db, rollout.candidate_version_id);
        candidateVersion = candidate.version;
        candidateScore = await score(candidate);
        rolloutReason = rollout.reason;
        if (outcome === 'released' && rollout.ended_at) {
          const sampled = await sampledTraces(db, cycleId);
          const oldest = Math.min(...sampled.map((t) => new Date(t.timestamp).getTime()));
          if (Number.isFinite(oldest))
            loopTimeSeconds = (new Date(rollout.ended_at).getTime() - oldest) / 1000;
        }
      }
      const verdict = judgeWeek({
        previousProduction: previous,
        production: productionScore,
        outcome,
        candidate: candidateScore,
      });
      const llm: Record<string, LlmUsage> = usageSince(worker.usage(), usageBefore);
      const record: SeedWeekRecord = {
        week,
        cycleId,
        windowDays,
        trafficTraces: traffic.sent - sentBefore,
        trueSuccess: productionScore,
        outcome,
        released: verdict.released,
        rolledBack: verdict.rolledBack,
        falseRollback: verdict.falseRollback,
        trueRollback: verdict.trueRollback,
        falseRelease: verdict.falseRelease,
        regressionShipped: verdict.regressionShipped,
        loopTimeSeconds,
        wallSeconds: (performance.now() - started) / 1000,
        llm,
        productionVersion: production.version,
        candidateVersion,
        candidateTrueSuccess: candidateScore,
        candidateDelta: verdict.candidateDelta,
        rolloutReason,
        rolloutResumes: drive.resumes,
        gate: status?.gate
          ? { verdict: status.gate.verdict, failingAssertion: status.gate.failingAssertion }
          : null,
        optimization: status?.optimization ?? null,
        annotation: status?.annotation
          ? { ...status.annotation, submitted: drive.submitted, refused: drive.refused }
          : null,
        sample: status?.sample ?? null,
        calibration: status?.calibration ?? null,
        dataset: status?.dataset ?? null,
        ...(drive.error ? { error: drive.error } : {}),
      };
      run.weeks.push(record);
      log(
        `week ${week}: ${outcome}${status?.gate ? ` (gate ${status.gate.verdict}${status.gate.failingAssertion ? `: ${status.gate.failingAssertion}` : ''})` : ''}` +
          `, production v${production.version} true ${(productionScore * 100).toFixed(1)}%` +
          (candidateScore !== null
            ? `, candidate v${candidateVersion} ${(candidateScore * 100).toFixed(1)}%`
            : '') +
          `, ${record.wallSeconds.toFixed(0)} s`,
      );
      previous = productionScore;
    }
  } catch (error) {
    run.error = message(error);
    log(`stopped: ${run.error}`);
  } finally {
    await worker.stop();
  }
  return run;
}

interface Drive {
  result: CycleResult | null;
  resumes: number;
  submitted: number;
  refused: number;
  error?: string;
}

/** Plays the humans around one cycle until it ends (or the bench's timeout terminates it). */
async function driveCycle(
  o: SeedRunOptions,
  c: { cycleId: string; scenario: Scenario; traffic: BenchTraffic; log: (l: string) => void; week: number },
): Promise<Drive> {
  const { client, db } = o.stack;
  const drive: Drive = { result: null, resumes: 0, submitted: 0, refused: 0 };
  let pending: ReviewerLabel[] | null = null;
  let attempts = 0;
  let decided = false;
  let live: { stop(): Promise<void> } | null = null;
  let lastStage: string | undefined;
  const deadline = Date.now() + o.cycleTimeoutSeconds * 1000;
  const handle = client.workflow.getHandle(c.cycleId);
  try {
    for (;;) {
      const status = await cycleStatus(client, c.cycleId).catch(() => null);
      const stage = status?.stage;
      if (stage && stage !== lastStage) {
        c.log(`week ${c.week}: ${stage}`);
        lastStage = stage;
      }
      if (stage === 'done') break;
      if (stage === 'awaiting_annotation' && pending === null) {
        const items = await annotationItems(db, c.cycleId);
        pending = reviewerLabels(
          c.scenario,
          items.map((i) => ({ itemId: i.id, traceId: i.trace_id, output: i.output })),
          (traceId) => c.traffic.exampleOf.get(traceId),
          { errorRate: o.reviewerError, limit: o.labelsPerWeek, seed: o.seed * 1000 + c.week },
        );
      }
      // The status query can run ahead of the queue's own stage ("try again in a moment"):
      // the reviewer resubmits what was refused, a few times, as a person would.
      if (stage === 'awaiting_annotation' && pending && pending.length > 0 && attempts < 10) {
        attempts++;
        const labels: ReviewerLabel[] = pending;
        try {
          const r = await submitAnnotations(db, client, c.cycleId, { reviewer: 'bench-reviewer', labels });
          drive.submitted += r.stored;
          const refused = new Set(r.errors.map((e) => e.index));
          pending = labels.filter((_, i) => refused.has(i));
          drive.refused = pending.length;
          if (r.errors.length)
            c.log(`annotate: ${r.errors.length} label(s) refused, e.g. ${r.errors[0]!.error}`);
        } catch (error) {
          drive.refused = labels.length;
          c.log(`annotate refused: ${message(error)}`);
        }
      }
      if (stage === 'awaiting_approval' && !decided && status?.gate) {
        decided = true;
        const answer =
          status.gate.verdict === 'pass' || (o.approveInconclusive && status.gate.verdict === 'inconclusive')
            ? approveCycle(client, c.cycleId, { comment: 'the gate passed' }, asPerson('bench-approver'))
            : rejectCycle(
                client,
                c.cycleId,
                { reason: `the gate did not pass (${status.gate.verdict})` },
                asPerson('bench-approver'),
              );
        await answer.catch((e: unknown) => c.log(`approval: ${message(e)}`));
      }
      if (stage === 'rolling_out') {
        live ??= c.traffic.live(o.rolloutTrafficPerSecond, (e) => c.log(`live traffic: ${message(e)}`));
        const rollout = await rolloutState(client, c.cycleId).catch(() => null);
        if (rollout?.phase === 'paused') {
          const action = drive.resumes < o.maxResumes ? 'resume' : 'abort';
          if (action === 'resume') drive.resumes++;
          await controlRollout(
            client,
            c.cycleId,
            action,
            {
              reason:
                action === 'resume'
                  ? 'more live traffic has arrived'
                  : `still inconclusive after ${o.maxResumes} resumes`,
            },
            asPerson('bench-operator'),
          ).catch((e: unknown) => c.log(`rollout ${action}: ${message(e)}`));
        }
      }
      if (Date.now() > deadline) {
        drive.error = `cycle did not finish within ${o.cycleTimeoutSeconds} s (stage ${stage ?? 'unknown'}): terminated`;
        c.log(drive.error);
        await handle.terminate('bench:flywheel timeout').catch(() => undefined);
        return drive;
      }
      await sleep(300);
    }
    try {
      drive.result = (await handle.result()) as CycleResult;
    } catch (error) {
      drive.error = `the cycle failed: ${message(error)}`;
      c.log(drive.error);
    }
    return drive;
  } finally {
    await live?.stop();
  }
}
