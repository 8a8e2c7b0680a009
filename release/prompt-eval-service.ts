import type { Db } from '../db/connection.js';
import type { PromptVersion } from '../db/database.js';
import { resolveVersion } from '../datasets/store/dataset-repository.js';
import { activeRubrics } from '../evaluation/store/rubric-repository.js';
import { latestCalibrations } from '../evaluation/store/judge-calibration-repository.js';
import type { LlmRoles } from '../llm/llm-client.js';
import type { CandidatePrompt } from '../registry/candidate-prompt-file.js';
import { findPromptVersion } from '../registry/prompt-service.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import { labelledVersion } from '../registry/store/prompt-repository.js';
import { formatIssues } from '../schemas/format-issues.js';
import {
  GateOverride,
  judgeDimensionsNamed,
  resolveGateConfig,
  type GateConfig,
} from '../schemas/gate-config.js';
import type { GateEvalResult } from '../schemas/gate-eval.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';
import { gateCoaching, type ReplayCoaching } from '../coaching/coaching-replay-service.js';
import { situationEmbedderFor } from '../coaching/situation-embedder.js';
import { ciVerdict } from './gate-ci-verdict.js';
import { decideGate, type ExampleScores } from './gate-decision.js';
import { passScores, uncalibratedJudges } from './gate-judges.js';
import { judgeGateOutputs } from './gate-scoring-service.js';
import { examplesOf, replay, servedOf, type Example, type Served } from './served-replay-service.js';
import { emptiedSetReport, gateCoachingSet, type ReplayedSplit } from './coaching-set-gate-service.js';

/**
 * The candidate `flywheel eval` gates: a file's prompt, or a registry version or label; or
 * the production prompt itself, when what is gated is a coaching set.
 */
export type CandidateSpec =
  | { source: 'file'; ref: string; prompt: CandidatePrompt }
  | { source: 'version'; ref: string }
  | { source: 'label'; ref: string }
  | { source: 'production'; ref: 'production' };

export interface PromptEvalRequest {
  agent: string;
  candidate: CandidateSpec;
  /** A dataset version or dataset reference; absent: the agent's dataset, newest published version. */
  dataset?: string | undefined;
  /** A gate configuration applied over the agent's, as a cycle's override is, and where it came from. */
  gate?: { source: string; override: unknown } | undefined;
  failOn: string[] | null;
  /**
   * 'candidates': the agent's candidate coaching joins the candidate's arm (recalled per
   * example beside the active memories both arms get), so a coaching set is gated before an
   * approver promotes it.
   */
  coaching?: 'candidates' | undefined;
  seed: number;
  /** Who runs it, from authentication. */
  evaluatedBy: string;
}

export interface PromptEvalDeps {
  db: Db;
  llm: LlmRoles;
  concurrency: number;
  now: () => Date;
}

/** The gate `flywheel eval` applies: the agent's, with the file's fields over it. */
function gateConfigOf(agentGate: GateConfig, gate: PromptEvalRequest['gate']): GateConfig {
  if (!gate) return agentGate;
  const parsed = GateOverride.safeParse(gate.override);
  const fix = `fix ${gate.source}: it takes the fields of agents.config.gate (assertions, weighting, nonRegression, bootstrap, repeats, holdout, minEvalExamples, uncalibratedJudges, requireImprovement)`;
  if (!parsed.success)
    throw new UserError(
      `The gate configuration in ${gate.source} is invalid (${formatIssues(parsed.error, { root: 'gate' })}); ${fix}.`,
    );
  try {
    return resolveGateConfig(agentGate, parsed.data);
  } catch (e) {
    const issues =
      e && typeof e === 'object' && 'issues' in e ? formatIssues(e as never, { root: 'gate' }) : String(e);
    throw new UserError(`${gate.source} makes the agent's gate invalid (${issues}); ${fix}.`);
  }
}

async function candidateOf(
  db: Db,
  agent: string,
  production: PromptVersion,
  spec: CandidateSpec,
): Promise<Served> {
  if (spec.source === 'production') return servedOf(production);
  if (spec.source === 'file')
    return { prompt: spec.prompt.prompt, config: spec.prompt.config ?? servedOf(production).config };
  const version = await findPromptVersion(
    db,
    agent,
    spec.source === 'version' ? { version: spec.ref } : { label: spec.ref },
  );
  return servedOf(version);
}

/**
 * The regression gate outside a cycle, as a CI step runs it: the candidate prompt against
 * the agent's production version on a dataset version's eval and holdout splits (the
 * regression suite is a slice of them), scored and decided by the same code as the cycle's
 * gate (judging through gate-scoring-service, the decision by decideGate). Nothing is
 * stored but the model answers' cache: a CI run creates no version and moves no label.
 */
export async function evaluatePromptGate(
  deps: PromptEvalDeps,
  req: PromptEvalRequest,
): Promise<GateEvalResult> {
  const { db } = deps;
  const startedAt = deps.now();
  const agent = await agentConfig(db, req.agent);
  const production = await labelledVersion(db, req.agent, 'production');
  if (!production)
    throw new NotFoundError(
      `Agent "${req.agent}" has no production prompt (no version of prompt "${req.agent}" has the production label): label one with \`flywheel prompt label ${req.agent} <version> production\`.`,
    );
  const candidate = await candidateOf(db, req.agent, production, req.candidate);
  const config = gateConfigOf(agent.gate, req.gate);
  const dataset = await resolveVersion(db, req.dataset ?? req.agent).catch((e: unknown) => {
    // Without --dataset the agent's own dataset is gated on; a new agent has none until its
    // first cycle publishes one from reviewed traces.
    if (req.dataset === undefined && e instanceof NotFoundError)
      throw new NotFoundError(
        `Agent "${req.agent}" has no dataset yet, so there is nothing to gate on: its first cycle builds one from the reviewed traces (\`flywheel cycle status\`), or import one with \`flywheel dataset import\`, or pass --dataset.`,
      );
    throw e;
  });
  if (dataset.agent_id !== req.agent)
    throw new UserError(
      `Dataset version ${dataset.id} belongs to agent "${dataset.agent_id}", not "${req.agent}": pass one of ${req.agent}'s (\`flywheel dataset list --agent ${req.agent}\`).`,
    );
  const splits = {
    eval: await examplesOf(db, dataset.id, 'eval'),
    holdout: await examplesOf(db, dataset.id, 'holdout'),
  };
  if (splits.eval.length === 0)
    throw new UserError(
      `Dataset version ${dataset.id} has no eval examples, so there is nothing to gate on: import some with \`flywheel dataset import\` or pass another version with --dataset.`,
    );

  // Production as served: the prompt with the active coaching its agents recall.
  const embedder = situationEmbedderFor(deps.llm.embedder);
  const coaching = await gateCoaching(db, req.agent, embedder);
  const activeCoaching = coaching.active;
  const candidateCoaching = req.coaching === 'candidates' ? coaching.withCandidates : activeCoaching;
  if (req.coaching === 'candidates' && coaching.set.length === 0)
    throw new UserError(
      `Agent "${req.agent}" has no candidate coaching to gate: create some with \`flywheel coaching create ${req.agent} ... --candidate\` (or list them with \`flywheel coaching list ${req.agent} --status candidate\`).`,
    );

  const judged = judgeDimensionsNamed(config);
  const rubrics = [...(await activeRubrics(db, req.agent, judged)).values()];
  const judging = { judge: deps.llm.judge, concurrency: deps.concurrency };
  const judgedOn = async (
    split: ExampleScores['split'],
    served: Served,
    arm: ReplayCoaching,
    examples: readonly Example[],
  ) => {
    const outputs = await replay(deps, served, arm, agent, examples, req.seed);
    return { outputs, scores: await judgeGateOutputs(judging, outputs, split, rubrics, config, req.seed) };
  };
  const scored = async (served: Served, coaching: ReplayCoaching) => {
    const scores: ExampleScores[] = [];
    const replayed: ReplayedSplit[] = [];
    for (const split of ['eval', 'holdout'] as const) {
      const run = await judgedOn(split, served, coaching, splits[split]);
      scores.push(...run.scores);
      replayed.push({ split, examples: splits[split], candidate: run.outputs });
    }
    return { scores, replayed };
  };
  const candidateRun = await scored(candidate, candidateCoaching);
  const candidateScores = candidateRun.scores;
  const baselineScores = (await scored(servedOf(production), activeCoaching)).scores;
  // Each candidate member on the eval examples that recalled it, left out and re-scored as
  // the cycle's gate does, so both decide alike (a CI run only reports; it retires nothing).
  const setGate =
    req.coaching === 'candidates'
      ? await gateCoachingSet({
          set: coaching.set,
          replayed: candidateRun.replayed,
          candidate: candidateScores,
          baseline: baselineScores,
          promptChanged: req.candidate.source !== 'production',
          active: activeCoaching,
          withMembers: coaching.withMembers,
          run: (split, arm, examples) => judgedOn(split, candidate, arm, examples),
          tolerance: config.nonRegression.tolerance,
        })
      : null;
  const calibrations = judged.length ? await latestCalibrations(db, req.agent, judged) : [];
  const decided = decideGate({
    candidate: candidateScores,
    baseline: baselineScores,
    config,
    uncalibrated: uncalibratedJudges({
      judged,
      calibrations,
      calibratedByReviewers: agent.evaluation.judge.dimensions,
      measured: 'yet (a cycle measures it against reviewer labels)',
    }),
    passAt: passScores(rubrics),
    seed: req.seed,
    ...(setGate?.scope ? { improvementScope: setGate.scope } : {}),
  });
  const emptied =
    setGate !== null && setGate.attribution.kept.length === 0 && req.candidate.source === 'production';
  const report = setGate
    ? {
        ...(emptied ? emptiedSetReport(decided, production.id) : decided),
        coaching: {
          active: activeCoaching.size,
          set: setGate.attribution.kept,
          members: setGate.attribution.members,
          dropped: setGate.attribution.dropped,
        },
      }
    : decided;
  const verdict = ciVerdict(report, req.failOn);
  return {
    agent: req.agent,
    evaluatedBy: req.evaluatedBy,
    candidate: { source: req.candidate.source, ref: req.candidate.ref },
    production: { id: production.id, version: production.version },
    coaching: {
      active: activeCoaching.size,
      candidates: req.coaching === 'candidates' ? coaching.set.length : null,
    },
    dataset: { id: dataset.id, eval: splits.eval.length, holdout: splits.holdout.length },
    gateConfig: req.gate ? `the agent's, with ${req.gate.source} over it` : "the agent's",
    failOn: req.failOn,
    ...verdict,
    startedAt: startedAt.toISOString(),
    seconds: (deps.now().getTime() - startedAt.getTime()) / 1000,
    report,
  };
}
