import { cancellationSignal, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../schemas/failure-types.js';
import { ZodError } from 'zod';
import { decideGate, type ExampleScores } from '../release/gate-decision.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import {
  planCandidateRelease,
  releaseCandidate,
  type CandidateReleasePlan,
} from '../registry/candidate-release-service.js';
import { describeChanges } from '../registry/shipped-prompt.js';
import { activeRubrics } from '../evaluation/store/rubric-repository.js';
import { gateCalibrations } from '../evaluation/store/judge-calibration-repository.js';
import { gateReportById, insertGateReport } from '../release/store/gate-report-repository.js';
import {
  GateOverride,
  judgeDimensionsNamed,
  resolveGateConfig,
  type GateConfig,
} from '../schemas/gate-config.js';
import { GateReport } from '../schemas/gate-report.js';
import type { ActivityDeps } from './activity-deps.js';
import { evaluateOnSplit } from './candidate-evaluation.js';
import { judgeGateOutputs } from '../release/gate-scoring-service.js';
import { passScores, uncalibratedJudges } from '../release/gate-judges.js';
import { formatIssues } from '../schemas/format-issues.js';
import type { CoachingSet } from '../schemas/coaching.js';
import { gateCoaching } from '../coaching/coaching-replay-service.js';
import {
  emptiedSetReport,
  gateCoachingSet,
  type ReplayedSplit,
  type SetGateResult,
} from '../release/coaching-set-gate-service.js';
import { settleCoachingSet } from '../coaching/coaching-set-service.js';
import { coachingCount } from '../coaching/store/coaching-repository.js';
import { situationEmbedderFor } from '../coaching/situation-embedder.js';
import { examplesOf, replay, servedOf, type Example } from '../release/served-replay-service.js';
import { judgePassedTraces } from '../evaluation/store/score-repository.js';
import { sampledTraces } from '../traces/store/sample-repository.js';
import type { GateOutput } from '../release/gate-scoring-service.js';
import { versionById } from '../registry/store/prompt-repository.js';

export interface GateInput {
  cycleId: string;
  agent: string;
  candidateId: string;
  baselineCandidateId: string;
  baselineVersionId: string;
  datasetVersionId: string;
  seed: number;
  /**
   * This cycle's override of the agent's gate (agents.config.gate); absent = the agent's.
   * Cycles started before per-agent gates pass the legacy thresholds / maxRegression fields.
   */
  config?: GateOverride | undefined;
}

/** What the workflow shows of an assertion in its status and details. */
export interface GateAssertionSummary {
  name: string;
  passed: boolean;
  inconclusive?: boolean;
  detail: string;
}

export interface GateOutcome {
  reportId: string;
  passed: boolean;
  verdict: GateReport['verdict'];
  failingAssertion: string | null;
  candidateVersionId: string | null;
  candidate: Record<string, number>;
  baseline: Record<string, number>;
  /** The first assertions of the report (failures first), for the workflow's status. */
  assertions: GateAssertionSummary[];
  /**
   * True when the gate refused the candidate because it ships exactly what production
   * serves (no version is created). Optional: absent from results recorded before the rule.
   */
  sameAsProduction?: boolean;
  /**
   * The candidate coaching gated with the candidate and released with it (the rollout
   * carries it). Absent: none (and in results recorded before coaching sets).
   */
  coaching?: CoachingSet;
}

/** The assertion that refuses a candidate whose shipped form equals production's. */
export const DIFFERS_FROM_PRODUCTION = 'differs_from_production';

/** The report of a refused candidate: nothing was evaluated, because nothing would change. */
function unchangedCandidateReport(plan: CandidateReleasePlan): GateReport {
  return {
    passed: false,
    verdict: 'fail',
    failingAssertion: DIFFERS_FROM_PRODUCTION,
    assertions: [
      {
        name: DIFFERS_FROM_PRODUCTION,
        passed: false,
        kind: DIFFERS_FROM_PRODUCTION,
        detail:
          `the candidate ships exactly what production ${plan.production.id} serves (system prompt, demos ` +
          'and every tool description): it is not a candidate, so it was not evaluated and no version was created',
      },
    ],
    candidate: {},
    baseline: {},
    evalExamples: 0,
  };
}

/** How many of the cycle's judge-passed conversations a coaching set is checked on. */
const TRAFFIC_PROBES = 60;

/**
 * The cycle's sampled conversations the task-completion judge passed, as examples expecting
 * the step the agent took: routine requests a coaching set must not change. A dataset built
 * from labelled failures holds few of them.
 */
async function passingConversations(db: ActivityDeps['db'], cycleId: string): Promise<Example[]> {
  const passed = new Set(await judgePassedTraces(db, cycleId, TRAFFIC_PROBES));
  if (passed.size === 0) return [];
  return (await sampledTraces(db, cycleId))
    .filter((t) => passed.has(t.id))
    .map((t) => ({ id: `trace:${t.id}`, messages: t.input.messages, expected: t.output, slices: [] }));
}

/** How many assertions the workflow status carries; the full list is in gate_reports. */
const STATUS_ASSERTIONS = 5;

const summarise = (report: GateReport): GateAssertionSummary[] =>
  report.assertions.slice(0, STATUS_ASSERTIONS).map((a) => ({
    name: a.name,
    passed: a.passed,
    ...(a.inconclusive ? { inconclusive: true } : {}),
    detail: a.detail,
  }));

function gateConfigOf(agentGate: GateConfig, override: unknown): GateConfig {
  const issues = (e: ZodError) => formatIssues(e, { at: ['gate'] });
  const parsed = GateOverride.optional().safeParse(override === null ? undefined : override);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(
      `The cycle's gate override is invalid (${issues(parsed.error)}); fix the gate section of the cycle input.`,
      FailureType.InvalidInput,
    );
  try {
    return resolveGateConfig(agentGate, parsed.data);
  } catch (e) {
    if (!(e instanceof ZodError)) throw e;
    throw ApplicationFailure.nonRetryable(
      `The cycle's override makes the agent's gate invalid (${issues(e)}); fix agents.config.gate or the override.`,
      FailureType.InvalidInput,
    );
  }
}

export function createGateActivities(deps: ActivityDeps) {
  const { db, llm } = deps;

  const judging = (split: ExampleScores['split']) => ({
    judge: llm.judge,
    concurrency: deps.llmConcurrency,
    signal: cancellationSignal(),
    onProgress: (judged: number, of: number) => heartbeat({ judged, of, split }),
  });

  /**
   * Retires the members the gate left out with enough evidence (`retire`), so a memory its
   * own examples judged harmful is not gated again with every later cycle. Audited as the
   * flywheel's `coaching.retire`, the reason quoting the evidence. Only the version the gate
   * judged moves: one a person promoted, retired or edited meanwhile is left alone, so a
   * retried gate (which reads its report back) settles only the rest.
   */
  const retireDropped = async (agent: string, reportId: string, report: GateReport) => {
    const retiring = (report.coaching?.members ?? []).filter((m) => !m.kept && m.retire);
    for (const m of retiring)
      await settleCoachingSet(
        { db, artifacts: deps.webhook ? { webhook: deps.webhook } : {} },
        agent,
        [{ id: m.id, version: m.version }],
        'rolled_back',
        'flywheel',
        `gate ${reportId} left it out of the coaching set: on the eval examples that recalled it, ${m.worse} worse and ${m.better} better with it`,
      );
  };

  return {
    /** How many of the agent's coaching memories are candidates (gated with the next candidate). */
    async candidateCoachingCount(args: { agent: string }): Promise<{ candidates: number }> {
      return { candidates: await coachingCount(db, args.agent, 'candidate') };
    },

    /**
     * Candidate vs production, example by example, on the eval and holdout splits (never
     * seen by the optimizer), under the agent's gate configuration with the cycle's
     * override. A candidate that does not fail becomes a new immutable prompt version
     * labelled `candidate`, holding every component it changed (tool descriptions and demos
     * in the version's config); the full report is stored in gate_reports. A candidate that
     * ships exactly what production serves is refused before it is evaluated.
     */
    async runGate(args: GateInput): Promise<GateOutcome> {
      const reportId = `${args.cycleId}:gate`;
      const existing = await gateReportById(db, reportId);
      if (existing) {
        const report = GateReport.parse(existing.report);
        await retireDropped(args.agent, reportId, report);
        return {
          reportId,
          passed: existing.passed,
          verdict: report.verdict,
          failingAssertion: existing.failing_assertion,
          candidateVersionId: existing.candidate_version_id,
          candidate: report.candidate,
          baseline: report.baseline,
          assertions: summarise(report),
          ...(existing.failing_assertion === DIFFERS_FROM_PRODUCTION ? { sameAsProduction: true } : {}),
          ...(report.coaching?.set.length ? { coaching: report.coaching.set } : {}),
        };
      }
      const agent = await agentConfig(db, args.agent);
      // What would ship, compared with what production serves, before any model call.
      const plan = await planCandidateRelease(db, {
        agent: args.agent,
        candidateId: args.candidateId,
        productionVersionId: args.baselineVersionId,
      });
      // The coaching the agent's conversations recall: the active memories (both arms) and
      // the candidates, gated as one set with the candidate (its arm only).
      const embedder = situationEmbedderFor(llm.embedder);
      const coaching = await gateCoaching(db, args.agent, embedder);
      const { active, withCandidates, set } = coaching;
      if (plan.changed.length === 0 && set.length === 0) {
        const report = unchangedCandidateReport(plan);
        await insertGateReport(db, {
          id: reportId,
          cycleId: args.cycleId,
          candidateId: args.candidateId,
          baselineVersionId: args.baselineVersionId,
          candidateVersionId: null,
          report,
        });
        return {
          reportId,
          passed: false,
          verdict: report.verdict,
          failingAssertion: report.failingAssertion,
          candidateVersionId: null,
          candidate: report.candidate,
          baseline: report.baseline,
          assertions: summarise(report),
          sameAsProduction: true,
        };
      }
      const config = gateConfigOf(agent.gate, args.config);
      const judged = judgeDimensionsNamed(config);
      // The agent's active rubric versions (built-in where it saved none), read once for both sides.
      const rubrics = [...(await activeRubrics(db, args.agent, judged)).values()];

      const candidate: ExampleScores[] = [];
      const baseline: ExampleScores[] = [];
      const withCoaching = active.size > 0 || set.length > 0;
      // With coaching in play each arm is replayed as it would be served (prompt and the
      // coaching recalled per conversation); without, through the optimizer's executor and
      // its stored scores.
      const served = withCoaching
        ? {
            candidate: { prompt: plan.prompt, config: plan.config },
            baseline: servedOf(await versionById(db, args.baselineVersionId)),
            replayDeps: { llm, concurrency: deps.llmConcurrency },
          }
        : null;
      const replayed: ReplayedSplit[] = [];
      for (const split of ['eval', 'holdout'] as const) {
        let cand: GateOutput[];
        let base: GateOutput[];
        if (served) {
          const examples = await examplesOf(db, args.datasetVersionId, split);
          const { replayDeps } = served;
          cand = await replay(replayDeps, served.candidate, withCandidates, agent, examples, args.seed);
          base = await replay(replayDeps, served.baseline, active, agent, examples, args.seed);
          replayed.push({ split, examples, candidate: cand });
        } else {
          const common = {
            agent: args.agent,
            datasetVersionId: args.datasetVersionId,
            split,
            seed: args.seed,
          };
          cand = (await evaluateOnSplit(deps, { ...common, candidateId: args.candidateId })).outputs;
          base = (await evaluateOnSplit(deps, { ...common, candidateId: args.baselineCandidateId })).outputs;
        }
        candidate.push(...(await judgeGateOutputs(judging(split), cand, split, rubrics, config, args.seed)));
        baseline.push(...(await judgeGateOutputs(judging(split), base, split, rubrics, config, args.seed)));
      }

      // Each member of the set on its own evidence: one that made more of the eval examples
      // recalling it worse than better is left out, and the set is scored without it.
      let gated = set;
      let setGate: SetGateResult | null = null;
      if (served && set.length > 0) {
        setGate = await gateCoachingSet({
          set,
          replayed,
          candidate,
          baseline,
          promptChanged: plan.changed.length > 0,
          active,
          withMembers: coaching.withMembers,
          run: async (split, coachingArm, examples) => {
            const outputs = await replay(
              served.replayDeps,
              served.candidate,
              coachingArm,
              agent,
              examples,
              args.seed,
            );
            const scores = await judgeGateOutputs(judging(split), outputs, split, rubrics, config, args.seed);
            return { outputs, scores };
          },
          tolerance: config.nonRegression.tolerance,
          traffic: await passingConversations(db, args.cycleId),
          withCandidates,
        });
        gated = setGate.attribution.kept;
      }
      const setReport = withCoaching
        ? {
            coaching: {
              active: active.size,
              set: gated,
              ...(setGate
                ? { members: setGate.attribution.members, dropped: setGate.attribution.dropped }
                : {}),
            },
          }
        : {};

      const calibrations = judged.length ? await gateCalibrations(db, args.cycleId, judged) : [];
      const uncalibrated = uncalibratedJudges({
        judged,
        calibrations,
        calibratedByReviewers: agent.evaluation.judge.dimensions,
        measured: 'this cycle',
      });
      const decided = decideGate({
        candidate,
        baseline,
        config,
        uncalibrated,
        passAt: passScores(rubrics),
        seed: args.seed,
        // A set gated on the production prompt changes only the conversations that recall it.
        ...(setGate?.scope ? { improvementScope: setGate.scope } : {}),
      });
      // Every member dropped and nothing else changed: what is left is production itself.
      const report: GateReport =
        gated.length === 0 && plan.changed.length === 0
          ? { ...emptiedSetReport(decided, plan.production.id), ...setReport }
          : { ...decided, ...setReport };

      let candidateVersionId: string | null = null;
      // Inconclusive still becomes a candidate version: a human decides at approval. The
      // version carries every component the gate evaluated, not only the system prompt.
      if (report.verdict !== 'fail') {
        const changes = [
          ...(plan.changed.length ? [`${describeChanges(plan.changed)} changed`] : []),
          ...(gated.length ? [`${gated.length} candidate coaching`] : []),
        ];
        const version = await releaseCandidate(
          db,
          plan,
          `passed gate ${reportId} (${changes.join(', ')})`,
          gated.length,
        );
        candidateVersionId = version.id;
      }
      await insertGateReport(db, {
        id: reportId,
        cycleId: args.cycleId,
        candidateId: args.candidateId,
        baselineVersionId: args.baselineVersionId,
        candidateVersionId,
        report,
      });
      // After the report, so a retried gate (which reads the report back) retires the rest.
      await retireDropped(args.agent, reportId, report);
      return {
        reportId,
        passed: report.passed,
        verdict: report.verdict,
        failingAssertion: report.failingAssertion,
        candidateVersionId,
        candidate: report.candidate,
        baseline: report.baseline,
        assertions: summarise(report),
        ...(gated.length ? { coaching: gated } : {}),
      };
    },
  };
}
