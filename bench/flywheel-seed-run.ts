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
import { CoachingSet } from '../schemas/coaching.js';
import type { CycleInputArg } from '../schemas/cycle-input.js';
import type { OptimizerChoice } from '../schemas/optimizer-config.js';
import type { CycleStatus } from '../schemas/cycle-status.js';
import { sampledTraces } from '../traces/store/sample-repository.js';
import { createCoaching, retireCoaching } from '../coaching/coaching-service.js';
import { scenarioTools, type Scenario } from '../test/simulator/scenario.js';
import type { CycleResult } from '../workflows/cycle-workflow.js';
import { BenchTraffic } from './bench-traffic.js';
import { usageSince, type LlmUsage } from './counting-llm-client.js';
import type { FlywheelStack } from './flywheel-stack.js';
import { reviewerCoaching, type ReviewerCoaching } from './reviewer-coaching.js';
import {
  coachingAt,
  coachingCounts,
  gateDetail,
  gatedCoachingSet,
  productionCoaching,
  statusesOf,
  type ScoredCoaching,
} from './served-coaching.js';
import { reviewerLabels, type ReviewerLabel } from './simulated-reviewers.js';
import { contentOf, trueSuccessDetail, type HeldOutRequest, type TrueSuccessDetail } from './true-success.js';
import type { SeedWeek } from './week-summary.js';
import { judgeWeek } from './week-verdicts.js';

/**
 * What improves the agent: `prompt`, today's loop (the optimizer's prompt, gated and rolled
 * out); `coaching`, reviewers' candidate coaching gated and rolled out as a set on the
 * production prompt, the optimizer's budget too small to find a prompt; `both`, the two
 * together (the set gated and rolled out with the optimizer's candidate).
 */
export const ARMS = ['prompt', 'coaching', 'both'] as const;
export type Arm = (typeof ARMS)[number];

/**
 * The `coaching` arm's optimizer budget: a hard cap of one rollout (and one teacher call)
 * buys no proposal (the budget plan warns "Small budget"), so the optimizer ends with the
 * baseline and the cycle gates the candidate coaching alone.
 */
export const OPTIMIZER_OFF = { maxRollouts: 1, maxTeacherCalls: 1 } as const;

/** The agent id of one (scenario, arm, seed) pipeline; the prompt arm keeps the ids of runs before arms. */
export function agentIdOf(scenario: string, arm: Arm, seed: number): string {
  const name = scenario.replace(/[^A-Za-z0-9._-]/g, '-');
  return arm === 'prompt' ? `${name}-s${seed}` : `${name}-${arm}-s${seed}`;
}

export interface SeedRunOptions {
  stack: FlywheelStack;
  arm: Arm;
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
  /**
   * Reviewers retire the candidate coaching a gate failed with (as a person reading the gate
   * report might); default: they stay candidates and are gated again with the next cycle.
   */
  retireFailedCoaching?: boolean;
  /** The cycles' optimizer instead of the agent's (default: the agent's, GEPA at its defaults). */
  optimizerChoice?: OptimizerChoice;
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
  /** The gate report's eval size, both arms' means and its failed assertions (null: no gate ran). */
  gateDetail: Awaited<ReturnType<typeof gateDetail>>;
  optimization: CycleStatus['optimization'] | null;
  annotation: (NonNullable<CycleStatus['annotation']> & { submitted: number; refused: number }) | null;
  sample: CycleStatus['sample'] | null;
  calibration: CycleStatus['calibration'] | null;
  dataset: CycleStatus['dataset'] | null;
  /** Production's true success per failure mode after the week. */
  trueSuccessByRule: Record<string, number>;
  /** Held-out requests whose conversation recalled coaching (production after the week). */
  heldOutCoached: number;
  /** The week's traffic (and live rollout traffic) whose conversation recalled coaching. */
  trafficCoached: number;
  /** The coaching the reviewers wrote this week, with its ground truth. */
  coachingWritten: {
    id: string;
    kind: string;
    situation: string;
    wrongBehaviour: boolean;
    overBroad: boolean;
  }[];
  error?: string;
}

export interface SeedRun {
  seed: number;
  arm: Arm;
  agent: string;
  baseline: number;
  /** The starting prompt's true success on the routine held-out requests. */
  baselineRoutine: number | null;
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
  const agent = agentIdOf(o.scenario.name, o.arm, seed);
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

  // A version is scored with the coaching its conversations recall: the key is both.
  const scores = new Map<string, TrueSuccessDetail>();
  const score = async (v: { id: string; text: string; config: unknown }, coaching: ScoredCoaching) => {
    const key = `${v.id}|${coaching.key}`;
    if (!scores.has(key))
      scores.set(key, await trueSuccessDetail(o.scorer, contentOf(scenario, v), o.heldOut, coaching));
    return scores.get(key)!;
  };
  const embedder = stack.embedder;
  let activeCoaching = await productionCoaching(db, agent, embedder);
  const first = await score(v1, activeCoaching);
  const baseline = first.overall;
  const run: SeedRun = { seed, arm: o.arm, agent, baseline, baselineRoutine: first.routine, weeks: [] };
  let previous = baseline;
  let windowStartMs = Date.now() - 60_000;
  // The kind of request each coaching the reviewers wrote is for, to write one per kind.
  const written = new Map<string, string>();
  try {
    for (let week = 1; week <= o.weeks; week++) {
      const started = performance.now();
      const usageBefore = worker.usage();
      const sentBefore = traffic.sent;
      const coachedBefore = traffic.coached;
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
        ...(o.arm === 'coaching' ? { optimizer: { budget: { ...OPTIMIZER_OFF } } } : {}),
        ...(o.optimizerChoice && o.arm !== 'coaching' ? { optimizer: { choice: o.optimizerChoice } } : {}),
      };
      // A kind whose coaching is still a candidate (waiting for a gate) is not written again;
      // one whose coaching is active but still fails in the queue is (that one did not work).
      const standing = await statusesOf(db, agent, [...written.values()]);
      const skip = new Set([...written].filter(([, id]) => standing.get(id) === 'candidate').map(([k]) => k));
      await startCycle(client, { taskQueue, workflowId: cycleId, input });
      const drive = await driveCycle(o, { cycleId, scenario, traffic, log, week, skip });
      for (const c of drive.coaching) written.set(c.kind, c.id);
      const production = (await labelledVersion(db, agent, 'production'))!;
      const activeBefore = activeCoaching;
      activeCoaching = await productionCoaching(db, agent, embedder);
      const productionDetail = await score(production, activeCoaching);
      const productionScore = productionDetail.overall;
      const { evaluated: gated, released, retiredByGate } = await gatedCoachingSet(db, cycleId);
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
        // The candidate's share recalled the week's active coaching and the rollout's set.
        const set = rollout.coaching === null ? [] : CoachingSet.parse(rollout.coaching);
        const served =
          set.length === 0
            ? activeBefore
            : await coachingAt(db, agent, embedder, [...activeBefore.members, ...set]);
        candidateScore = (await score(candidate, served)).overall;
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
      let retiredAfterGate = 0;
      if (o.retireFailedCoaching && outcome === 'gate_failed')
        for (const m of gated.filter((g) => !retiredByGate.includes(g.id))) {
          await retireCoaching(
            { db, embedder },
            agent,
            m.id,
            {
              reason: `the gate of ${cycleId} failed with it (${status?.gate?.failingAssertion ?? 'no pass'})`,
            },
            'bench-reviewer',
          )
            .then(() => retiredAfterGate++)
            .catch((e: unknown) => log(`retire ${m.id}: ${message(e)}`));
        }
      const settled = await statusesOf(
        db,
        agent,
        gated.map((m) => m.id),
      );
      const counts = await coachingCounts(db, agent);
      const rolledOutSet = status?.rollout?.rolloutId ? released : [];
      // Members the gate left out and retired itself (their own eval examples got worse).
      const retiredByTheGate = retiredByGate.filter((id) => settled.get(id) === 'retired').length;
      const record: SeedWeekRecord = {
        week,
        cycleId,
        windowDays,
        trafficTraces: traffic.sent - sentBefore,
        trueSuccess: productionScore,
        routineTrueSuccess: productionDetail.routine,
        coaching: {
          created: drive.coaching.length,
          gated: gated.length,
          promoted: rolledOutSet.filter((m) => settled.get(m.id) === 'active').length,
          retired:
            rolledOutSet.filter((m) => settled.get(m.id) === 'retired').length +
            retiredAfterGate +
            retiredByTheGate,
          active: counts.active,
          candidates: counts.candidate,
        },
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
        gateDetail: await gateDetail(db, cycleId),
        optimization: status?.optimization ?? null,
        annotation: status?.annotation
          ? { ...status.annotation, submitted: drive.submitted, refused: drive.refused }
          : null,
        sample: status?.sample ?? null,
        calibration: status?.calibration ?? null,
        dataset: status?.dataset ?? null,
        trueSuccessByRule: productionDetail.byRule,
        heldOutCoached: productionDetail.coached,
        trafficCoached: traffic.coached - coachedBefore,
        coachingWritten: drive.coaching.map((c) => ({
          id: c.id,
          kind: c.kind,
          situation: c.request.situation,
          wrongBehaviour: c.wrongBehaviour,
          overBroad: c.overBroad,
        })),
        ...(drive.error ? { error: drive.error } : {}),
      };
      run.weeks.push(record);
      log(
        `week ${week}: ${outcome}${status?.gate ? ` (gate ${status.gate.verdict}${status.gate.failingAssertion ? `: ${status.gate.failingAssertion}` : ''})` : ''}` +
          `, production v${production.version} true ${(productionScore * 100).toFixed(1)}%` +
          (o.arm === 'prompt'
            ? ''
            : ` (coaching: ${drive.coaching.length} written, ${gated.length} gated, ${counts.active} active)`) +
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
  /** The candidate coaching the reviewers wrote while labelling. */
  coaching: (ReviewerCoaching & { id: string })[];
  resumes: number;
  submitted: number;
  refused: number;
  error?: string;
}

/** Plays the humans around one cycle until it ends (or the bench's timeout terminates it). */
async function driveCycle(
  o: SeedRunOptions,
  c: {
    cycleId: string;
    scenario: Scenario;
    traffic: BenchTraffic;
    log: (l: string) => void;
    week: number;
    /** Kinds of request whose coaching is still a candidate. */
    skip: ReadonlySet<string>;
  },
): Promise<Drive> {
  const { client, db } = o.stack;
  const drive: Drive = { result: null, coaching: [], resumes: 0, submitted: 0, refused: 0 };
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
        // Arms with coaching: a correction with the expected step becomes candidate coaching
        // (one per kind of request a week), written through the product's coaching service
        // as `POST /api/agents/:id/coaching` with `candidate: true` does.
        if (o.arm !== 'prompt') {
          const traceOf = new Map(items.map((i) => [i.id, i.trace_id]));
          const notes = reviewerCoaching(
            c.scenario,
            pending,
            { traceOf: (id) => traceOf.get(id), exampleOf: (t) => c.traffic.exampleOf.get(t) },
            { errorRate: o.reviewerError, seed: o.seed * 1000 + c.week, skip: c.skip },
          );
          for (const note of notes) {
            try {
              const { coaching } = await createCoaching(
                { db, embedder: o.stack.embedder },
                c.scenario.agentId,
                note.request,
                'bench-reviewer',
              );
              drive.coaching.push({ ...note, id: coaching.id });
            } catch (error) {
              c.log(`coaching refused: ${message(error)}`);
            }
          }
          if (notes.length) c.log(`week ${c.week}: ${drive.coaching.length} candidate coaching written`);
        }
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
