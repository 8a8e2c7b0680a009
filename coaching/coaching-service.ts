import { randomBytes } from 'node:crypto';
import type { ZodType } from 'zod';
import type { Db } from '../db/connection.js';
import { runAgentStep } from '../llm/agent-step.js';
import type { LlmClient } from '../llm/llm-client.js';
import {
  audited,
  rollbackArtifact,
  type ArtifactChangeResult,
  type ArtifactOptions,
} from '../registry/artifact-service.js';
import { agentConfig, lockAgent } from '../registry/store/agent-repository.js';
import { labelledVersion } from '../registry/store/prompt-repository.js';
import { readTrace } from '../traces/store/trace-reader.js';
import {
  COACHING_STATUSES,
  CoachingStatus,
  CreateCoachingRequest,
  PromoteCoachingRequest,
  RetireCoachingRequest,
  RollbackCoachingRequest,
  TestCoachingRequest,
  type FewShotMessage,
  type ThresholdCalibration,
} from '../schemas/coaching.js';
import { formatIssues } from '../schemas/format-issues.js';
import { PromptConfig, promptForAgent } from '../schemas/prompt.js';
import type { AgentAction, ChatMessage } from '../schemas/trace.js';
import { ConflictError, NotFoundError, UserError } from '../schemas/user-error.js';
import { recallMessages } from './coaching-correction.js';
import { fewShotMessages } from './coaching-messages.js';
import { situationQuery } from './coaching-recall.js';
import type { SituationEmbedder } from './situation-embedder.js';
import { coachingAuthors } from './store/coaching-author-repository.js';
import {
  appendCoachingVersion,
  coachingVersions,
  currentCoaching,
  insertCoaching,
  lockCoaching,
  type CoachingVersion,
  type CurrentCoaching,
} from './store/coaching-repository.js';
import { calibrateCoachingThreshold } from './threshold-calibration-service.js';

/**
 * Coaching memories as the API, the CLI and (later) activities share them: create one from a
 * reviewer's correction, list, show with its versions, retire, roll back one on its own, and
 * test it (the step re-run by the agent model without and with it). Every change is a new
 * version written with its audit record in one transaction and announced like any other
 * artifact change; the acting person always comes from the caller's authentication.
 */

export interface CoachingDeps {
  db: Db;
  embedder: SituationEmbedder;
  /** The agent model, for `test`; absent: test answers 503. */
  agentModel?: LlmClient | null;
  artifacts?: ArtifactOptions;
}

export interface CoachingView {
  id: string;
  agent: string;
  version: number;
  status: CoachingStatus;
  situation: string;
  behaviour: CoachingVersion['behaviour'];
  example: string | null;
  sourceTraceId: string | null;
  sourceStep: number | null;
  threshold: number;
  /** The threshold the author chose; differs from `threshold` once reviewers' marks moved it. */
  authorThreshold: number;
  /** How the author's threshold was chosen when the author did not set one; null: they did. */
  thresholdCalibration: ThresholdCalibration | null;
  embedder: string;
  /** Who wrote the first version. */
  author: string;
  updatedBy: string;
  reason: string;
  createdAt: string;
  changedAt: string;
}

export interface CoachingHistoryEntry {
  version: number;
  current: boolean;
  status: CoachingStatus;
  situation: string;
  behaviour: CoachingVersion['behaviour'];
  threshold: number;
  createdBy: string;
  reason: string;
  createdAt: string;
}

const viewOf = (c: CurrentCoaching, author: string): CoachingView => ({
  id: c.id,
  agent: c.agent,
  version: c.version,
  status: c.current.status,
  situation: c.current.situation,
  behaviour: c.current.behaviour,
  example: c.current.example,
  sourceTraceId: c.current.sourceTraceId,
  sourceStep: c.current.sourceStep,
  threshold: c.current.threshold,
  authorThreshold: c.current.authorThreshold,
  thresholdCalibration: c.current.thresholdCalibration,
  embedder: c.current.embedder,
  author,
  updatedBy: c.current.createdBy,
  reason: c.current.reason,
  createdAt: c.createdAt.toISOString(),
  changedAt: c.changedAt.toISOString(),
});

function parsed<T>(schema: ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (!result.success)
    throw new UserError(`The ${what} is not valid (${formatIssues(result.error)}); nothing was stored.`);
  return result.data;
}

const newCoachingId = () => `coa_${randomBytes(6).toString('hex')}`;

/** Where a coaching came from in its source trace: the conversation before the step, and its request. */
async function sourceOf(db: Db, agent: string, traceId: string, step: number | undefined) {
  const trace = await readTrace(db, traceId);
  if (!trace || trace.agent !== agent)
    throw new NotFoundError(`Agent ${agent} has no trace ${traceId}; nothing was stored.`);
  const messages = trace.input.messages;
  const at = step ?? messages.length;
  if (at > messages.length)
    throw new UserError(
      `Trace ${traceId} has ${messages.length} messages before its decision, so step ${at} is not in it (steps 0-${messages.length}); nothing was stored.`,
    );
  const before = messages.slice(0, at);
  return {
    step: at,
    before,
    request: before.findLast((m) => m.role === 'user')?.content ?? null,
    /** What recall would match at that step (situationQuery). */
    query: situationQuery(recallMessages(before)),
  };
}

/** Saves a reviewer's correction as a new coaching memory (version 1, active). */
export async function createCoaching(
  deps: CoachingDeps,
  agent: string,
  input: unknown,
  actor: string,
): Promise<{ coaching: CoachingView; change: ArtifactChangeResult }> {
  const req = parsed(CreateCoachingRequest, input, 'coaching');
  if (req.sourceStep !== undefined && req.sourceTraceId === undefined)
    throw new UserError('sourceStep names a step of sourceTraceId: give the trace too; nothing was stored.');
  const source =
    req.sourceTraceId === undefined
      ? null
      : await sourceOf(deps.db, agent, req.sourceTraceId, req.sourceStep);
  const [embedding] = await deps.embedder.embed([req.situation]);
  const example = req.example ?? source?.request ?? null;
  // No threshold given: calibrated on this embedder (threshold-calibration.ts), so a
  // coaching is recalled alike whichever embedder the deployment runs.
  const calibration =
    req.threshold === undefined
      ? await calibrateCoachingThreshold(deps, agent, embedding!, {
          query: source?.query.trim() ? source.query : example,
          traceId: req.sourceTraceId ?? null,
        })
      : null;
  const id = newCoachingId();
  const reason = req.reason ?? 'coaching created';
  const change = await audited(deps.db, deps.artifacts ?? {}, async (tx) => {
    await lockAgent(tx, agent);
    await insertCoaching(tx, id, agent, {
      situation: req.situation,
      embedding: embedding!,
      embedder: deps.embedder.name,
      behaviour: req.behaviour,
      example,
      sourceTraceId: req.sourceTraceId ?? null,
      sourceStep: source?.step ?? null,
      threshold: calibration?.threshold ?? req.threshold!,
      thresholdCalibration: calibration,
      status: req.candidate ? 'candidate' : 'active',
      createdBy: actor,
      reason,
    });
    return {
      agent,
      actor,
      reason,
      action: 'coaching.create',
      artifact: `coaching ${id}`,
      auditArtifact: `coaching:${agent}/${id}`,
      from: null,
      to: 1,
      detail: {
        coaching: id,
        situation: req.situation,
        behaviour: req.behaviour.kind,
        threshold: calibration?.threshold ?? req.threshold,
        ...(calibration ? { thresholdChosen: calibration.summary } : {}),
        ...(req.candidate ? { candidate: true } : {}),
      },
    };
  });
  return { coaching: await showCoaching(deps.db, agent, id), change: change! };
}

export async function listCoaching(db: Db, agent: string, status?: string): Promise<CoachingView[]> {
  const known = CoachingStatus.safeParse(status);
  if (status !== undefined && !known.success)
    throw new UserError(`status is ${COACHING_STATUSES.join(', ')}; not "${status}".`);
  const found = await currentCoaching(db, agent, known.success ? { status: known.data } : {});
  const authors = await coachingAuthors(
    db,
    found.map((c) => c.id),
  );
  return found.map((c) => viewOf(c, authors.get(c.id) ?? c.current.createdBy));
}

export async function showCoaching(db: Db, agent: string, id: string): Promise<CoachingView> {
  const [found] = await currentCoaching(db, agent, { id });
  if (!found)
    throw new NotFoundError(
      `Agent ${agent} has no coaching ${id}; list them with \`flywheel coaching list ${agent}\`.`,
    );
  const authors = await coachingAuthors(db, [found.id]);
  return viewOf(found, authors.get(found.id) ?? found.current.createdBy);
}

/** Every version of one coaching, oldest first, the one in force marked. */
export async function coachingHistory(db: Db, agent: string, id: string): Promise<CoachingHistoryEntry[]> {
  const current = await showCoaching(db, agent, id);
  return (await coachingVersions(db, id)).map((v) => ({
    version: v.version,
    current: v.version === current.version,
    status: v.status,
    situation: v.situation,
    behaviour: v.behaviour,
    threshold: v.threshold,
    createdBy: v.createdBy,
    reason: v.reason,
    createdAt: v.createdAt.toISOString(),
  }));
}

/**
 * A new version of one coaching with another status, audited as `action`; `refusal` names
 * what is wrong with the status in force, or null when the move is allowed.
 */
async function moveStatus(
  deps: Pick<CoachingDeps, 'db' | 'artifacts'>,
  target: { agent: string; id: string; actor: string; reason: string },
  move: {
    to: CoachingStatus;
    action: string;
    refusal: (current: CoachingStatus, version: number) => string | null;
  },
): Promise<{ coaching: CoachingView; change: ArtifactChangeResult }> {
  const { agent, id, actor, reason } = target;
  const change = await audited(deps.db, deps.artifacts ?? {}, async (tx) => {
    const record = await lockCoaching(tx, agent, id);
    const versions = await coachingVersions(tx, id);
    const current = versions.find((v) => v.version === record.version)!;
    const refused = move.refusal(current.status, record.version);
    if (refused) throw new ConflictError(`${refused}; nothing was changed.`);
    const { version: _v, createdAt: _c, ...rest } = current;
    const to = await appendCoachingVersion(tx, id, { ...rest, status: move.to, createdBy: actor, reason });
    return {
      agent,
      actor,
      reason,
      action: move.action,
      artifact: `coaching ${id}`,
      auditArtifact: `coaching:${agent}/${id}`,
      from: record.version,
      to,
      detail: { coaching: id },
    };
  });
  return { coaching: await showCoaching(deps.db, agent, id), change: change! };
}

/** Retires a coaching: a new version, not recalled any more; roll back to recall it again. */
export async function retireCoaching(
  deps: CoachingDeps,
  agent: string,
  id: string,
  input: unknown,
  actor: string,
): Promise<{ coaching: CoachingView; change: ArtifactChangeResult }> {
  const { reason } = parsed(RetireCoachingRequest, input, 'retirement');
  return moveStatus(
    deps,
    { agent, id, actor, reason },
    {
      to: 'retired',
      action: 'coaching.retire',
      refusal: (status, version) =>
        status === 'retired' ? `Coaching ${id} is retired already (v${version})` : null,
    },
  );
}

/**
 * Moves a candidate to `to` (a rollout's coaching set settled with its rollout, or a member
 * a gate left out): status and version are checked under the memory's lock, so one a person
 * promoted, retired or edited meanwhile is refused (ConflictError) and stays as it is. An
 * edit is a new version nobody judged: the evidence was about `version`, not about it.
 */
export function settleCandidateCoaching(
  deps: Pick<CoachingDeps, 'db' | 'artifacts'>,
  target: {
    agent: string;
    id: string;
    actor: string;
    reason: string;
    /** The version the gate or rollout judged; absent: whatever is current. */
    version?: number;
  },
  to: 'active' | 'retired',
): Promise<{ coaching: CoachingView; change: ArtifactChangeResult }> {
  return moveStatus(deps, target, {
    to,
    action: to === 'active' ? 'coaching.promote' : 'coaching.retire',
    refusal: (status, version) =>
      status !== 'candidate'
        ? `Coaching ${target.id} is ${status} (v${version}), not a candidate any more`
        : target.version !== undefined && version !== target.version
          ? `Coaching ${target.id} is at v${version}, not the v${target.version} that was judged`
          : null,
  });
}

/**
 * Promotes a candidate coaching to active: from now on production recalls it. An approver's
 * decision, taken after the gate (`flywheel eval --coaching candidates`); a new version, so
 * it rolls back on its own like any other change.
 */
export async function promoteCoaching(
  deps: CoachingDeps,
  agent: string,
  id: string,
  input: unknown,
  actor: string,
): Promise<{ coaching: CoachingView; change: ArtifactChangeResult }> {
  const { reason } = parsed(PromoteCoachingRequest, input, 'promotion');
  return moveStatus(
    deps,
    { agent, id, actor, reason },
    {
      to: 'active',
      action: 'coaching.promote',
      refusal: (status, version) =>
        status === 'candidate'
          ? null
          : `Coaching ${id} is ${status} (v${version}), not a candidate: only a candidate is promoted`,
    },
  );
}

/**
 * Rolls one coaching back on its own (to `to`, default the version before the one in force)
 * through the artifact mechanism, as `flywheel rollback coaching <agent> <id>` does.
 */
export async function rollbackCoaching(
  deps: Pick<CoachingDeps, 'db' | 'artifacts'>,
  agent: string,
  id: string,
  input: unknown,
  actor: string,
): Promise<ArtifactChangeResult> {
  const req = parsed(RollbackCoachingRequest, input, 'rollback');
  return rollbackArtifact(
    deps.db,
    { kind: 'coaching', agent, name: id, to: req.to, actor, reason: req.reason },
    deps.artifacts ?? {},
  );
}

export interface CoachingTestResult {
  coaching: CoachingView;
  promptVersion: number;
  messages: ChatMessage[];
  coachingMessages: FewShotMessage[];
  before: AgentAction;
  after: AgentAction;
  changed: boolean;
}

/**
 * Re-runs the step with the coaching applied, through the agent model, next to the step
 * without it: the agent's production prompt and tools, on the given conversation or the
 * source trace's messages before the corrected step. The coaching is applied whatever its
 * status and similarity, since the point is to see what it makes the agent do.
 */
export async function testCoaching(
  deps: CoachingDeps,
  agent: string,
  id: string,
  input: unknown,
): Promise<CoachingTestResult> {
  const req = parsed(TestCoachingRequest, input ?? {}, 'test request');
  const coaching = await showCoaching(deps.db, agent, id);
  let messages: ChatMessage[];
  if (req.messages) messages = req.messages.map((m) => ({ role: m.role, content: m.content }));
  else if (coaching.sourceTraceId)
    messages = (await sourceOf(deps.db, agent, coaching.sourceTraceId, coaching.sourceStep ?? undefined))
      .before;
  else
    throw new UserError(
      `Coaching ${id} has no source trace: pass the conversation to test it on (\`messages\`, a JSON array of messages; CLI: --messages FILE).`,
    );
  if (!deps.agentModel)
    throw new UserError(
      'No agent model is configured for this process, so the step cannot be re-run: configure the models (FLYWHEEL_LLM_BASE_URL, FLYWHEEL_AGENT_MODEL).',
      'unavailable',
    );
  const config = await agentConfig(deps.db, agent);
  const production = await labelledVersion(deps.db, agent, 'production');
  if (!production)
    throw new NotFoundError(
      `Agent ${agent} has no production prompt to test the coaching with: label one with \`flywheel prompt label ${agent} <version> production\`.`,
    );
  const { systemPrompt, tools } = promptForAgent(
    { prompt: production.text, config: PromptConfig.parse(production.config) },
    config.tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })),
  );
  const coachingMessages = fewShotMessages([coaching]);
  const run = (fewShot: FewShotMessage[]) =>
    runAgentStep(deps.agentModel!, {
      systemPrompt,
      fewShot,
      messages,
      tools,
      ...(req.seed === undefined ? {} : { seed: req.seed }),
    });
  const [before, after] = await Promise.all([run([]), run(coachingMessages)]);
  return {
    coaching,
    promptVersion: production.version,
    messages,
    coachingMessages,
    before: before.step,
    after: after.step,
    changed: JSON.stringify(before.step) !== JSON.stringify(after.step),
  };
}
