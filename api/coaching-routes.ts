import { z } from 'zod';
import { CoachingIndexes } from '../coaching/coaching-index-service.js';
import { CoachingRecall } from '../coaching/coaching-recall-service.js';
import {
  coachingHistory,
  createCoaching,
  listCoaching,
  promoteCoaching,
  retireCoaching,
  rollbackCoaching,
  showCoaching,
  testCoaching,
  type CoachingDeps,
} from '../coaching/coaching-service.js';
import {
  migrateContextualInstructions,
  MigrateInstructionsRequest,
} from '../coaching/instruction-migration-service.js';
import { situationEmbedderFor } from '../coaching/situation-embedder.js';
import { SuggestSituationRequest } from '../coaching/situation-suggestion.js';
import { suggestCoachingSituation } from '../coaching/situation-suggestion-service.js';
import type { Db } from '../db/connection.js';
import type { LlmClient, LlmRoles } from '../llm/llm-client.js';
import type { WebhookSender } from '../notify/webhook-sender.js';
import {
  COACHING_STATUSES,
  CreateCoachingRequest,
  RecallRequest,
  PromoteCoachingRequest,
  RetireCoachingRequest,
  RollbackCoachingRequest,
  TestCoachingRequest,
} from '../schemas/coaching.js';
import { formatIssues } from '../schemas/format-issues.js';
import { principalLabel } from '../schemas/principal.js';
import { UserError } from '../schemas/user-error.js';
import { withIdentity, type ApiRoute, type RouteRequest } from './api-route.js';
import type { ResourceAgents } from './resource-agent.js';

export interface CoachingRouteDeps {
  db: Db;
  /**
   * The models this process calls: the embedder (situations, recall), the agent (test) and
   * the teacher (suggested situations).
   */
  llm?: LlmRoles | null;
  /** The process's recall index; one is made per deps object when absent. */
  coaching?: CoachingRecall;
  webhook?: WebhookSender;
}

const fallbackRecall = new WeakMap<CoachingRouteDeps, CoachingRecall>();

export function coachingRecallOf(deps: CoachingRouteDeps): CoachingRecall {
  if (deps.coaching) return deps.coaching;
  let recall = fallbackRecall.get(deps);
  if (!recall) {
    const indexes = new CoachingIndexes(deps.db, situationEmbedderFor(deps.llm?.embedder ?? null));
    fallbackRecall.set(deps, (recall = new CoachingRecall(indexes)));
  }
  return recall;
}

const AgentParam = z.object({ id: z.string().describe('The agent id') });
const CoachingParams = AgentParam.extend({ coaching: z.string().describe('The coaching id (coa_…)') });
const ListQuery = z.object({ status: z.enum(COACHING_STATUSES).optional() });

/** A JSON object body; identity fields are refused (who acts comes from authentication). */
export const bodyOf = (r: RouteRequest) => {
  const { actor: _who, ...rest } = withIdentity(r.json(), 'actor', principalLabel(r.principal));
  return rest;
};

function recallBody(r: RouteRequest) {
  const parsed = RecallRequest.safeParse(r.json());
  if (!parsed.success)
    throw new UserError(`The recall request is not valid (${formatIssues(parsed.error)}).`);
  return parsed.data;
}

/**
 * Coaching memories over HTTP: reviewers write and test them, operators roll one back,
 * and agents recall the ones that match their conversation (with their resolve token),
 * next to resolving their prompt version.
 */
/**
 * What every coaching route handler needs: the service's dependencies, the path's agent and
 * coaching, the acting person, and an answer that first makes this process recall its own
 * write.
 */
export function coachingRouteKit(deps: CoachingRouteDeps) {
  const agentOf = (r: RouteRequest) => r.params.id ?? '';
  return {
    service: (): CoachingDeps & { teacher: LlmClient | null } => ({
      db: deps.db,
      embedder: coachingRecallOf(deps).indexes.embedder,
      agentModel: deps.llm?.agent ?? null,
      teacher: deps.llm?.teacher ?? null,
      artifacts: deps.webhook ? { webhook: deps.webhook } : {},
    }),
    agentOf,
    coachingOf: (r: RouteRequest) => r.params.coaching ?? '',
    actor: (r: RouteRequest) => principalLabel(r.principal),
    written: async (r: RouteRequest, status: number, body: unknown) => {
      await coachingRecallOf(deps).indexes.invalidate(agentOf(r));
      return { status, body };
    },
  };
}

export function coachingRoutes(deps: CoachingRouteDeps, agents: ResourceAgents): ApiRoute[] {
  const { service, agentOf, coachingOf, actor, written } = coachingRouteKit(deps);
  return [
    {
      method: 'POST',
      url: '/api/agents/:id/coaching/recall',
      tag: 'coaching',
      summary:
        'The coaching memories the conversation so far is in the situation of (top k by similarity, each above its own threshold, within a token budget), as few-shot messages to insert after the system prompt, and the ids to tag the trace with (flywheel.coaching.ids).',
      // Agents recall with their resolve token, as they resolve their prompt; people may look.
      auth: [{ scope: 'resolve' }, { role: 'viewer' }],
      agent: agents.byAgentParam,
      schema: { params: AgentParam, body: RecallRequest },
      handler: async (r) => ({
        status: 200,
        body: await coachingRecallOf(deps).recall(agentOf(r), recallBody(r)),
      }),
    },
    {
      method: 'GET',
      url: '/api/agents/:id/coaching',
      tag: 'coaching',
      summary: "The agent's coaching memories at their current version (?status=active|candidate|retired).",
      auth: { role: 'viewer' },
      agent: agents.byAgentParam,
      schema: { params: AgentParam, querystring: ListQuery },
      handler: async (r) => ({
        status: 200,
        body: { data: await listCoaching(deps.db, agentOf(r), r.query.get('status') ?? undefined) },
      }),
    },
    {
      method: 'POST',
      url: '/api/agents/:id/coaching',
      tag: 'coaching',
      summary:
        'Save a correction as coaching: the situation it applies to and the behaviour (reply, tool call, ask for confirmation, transfer), optionally from a trace and step. The author is the authenticated person.',
      auth: { role: 'reviewer' },
      agent: agents.byAgentParam,
      schema: { params: AgentParam, body: CreateCoachingRequest },
      handler: async (r) => written(r, 201, await createCoaching(service(), agentOf(r), bodyOf(r), actor(r))),
    },
    {
      method: 'POST',
      url: '/api/agents/:id/coaching/situation',
      tag: 'coaching',
      summary:
        'Suggest the situation a coaching applies to, written by the teacher model from the conversation up to the step ("When a customer asks to …": general, without names or ids), for a step of a trace (traceId, step) or a conversation (messages). source says whether the model wrote it or, when no model answered usably in time, the request was quoted ("When replying to: …"; fallbackReason says why). Nothing is stored.',
      auth: { role: 'reviewer' },
      agent: agents.byAgentParam,
      schema: { params: AgentParam, body: SuggestSituationRequest },
      handler: async (r) => ({
        status: 200,
        body: await suggestCoachingSituation(service(), agentOf(r), r.raw.length === 0 ? {} : bodyOf(r)),
      }),
    },
    {
      method: 'POST',
      url: '/api/agents/:id/coaching/migrate',
      tag: 'coaching',
      summary:
        'Migrate the contextual instructions of a prompt version (default: production) into coaching: the teacher model finds the instructions that apply only in one kind of situation and writes each as a situation and the step to take there. Applied, each becomes a candidate coaching and the prompt without them a new version, neither served: gate them together (flywheel eval --version N --coaching candidates) and release them together (flywheel rollout start AGENT N --coaching candidates). dryRun only says what would change. 503 without a usable teacher answer; nothing is stored then.',
      auth: { role: 'operator' },
      agent: agents.byAgentParam,
      schema: { params: AgentParam, body: MigrateInstructionsRequest },
      handler: async (r) =>
        written(
          r,
          200,
          await migrateContextualInstructions(
            service(),
            agentOf(r),
            r.raw.length === 0 ? {} : bodyOf(r),
            actor(r),
          ),
        ),
    },
    {
      method: 'GET',
      url: '/api/agents/:id/coaching/:coaching',
      tag: 'coaching',
      summary:
        'One coaching at its current version, with every version (oldest first, the current one marked).',
      auth: { role: 'viewer' },
      agent: agents.byAgentParam,
      schema: { params: CoachingParams },
      handler: async (r) => ({
        status: 200,
        body: {
          coaching: await showCoaching(deps.db, agentOf(r), coachingOf(r)),
          versions: await coachingHistory(deps.db, agentOf(r), coachingOf(r)),
        },
      }),
    },
    {
      method: 'POST',
      url: '/api/agents/:id/coaching/:coaching/test',
      tag: 'coaching',
      summary:
        "Re-run the step with the coaching applied through the agent model, next to the step without it (the agent's production prompt, on the source trace's conversation or the given messages).",
      auth: { role: 'reviewer' },
      agent: agents.byAgentParam,
      schema: { params: CoachingParams, body: TestCoachingRequest },
      handler: async (r) => ({
        status: 200,
        body: await testCoaching(service(), agentOf(r), coachingOf(r), r.raw.length === 0 ? {} : bodyOf(r)),
      }),
    },
    {
      method: 'POST',
      url: '/api/agents/:id/coaching/:coaching/promote',
      tag: 'coaching',
      summary:
        "Promote a candidate coaching to active (a new version): production recalls it from now on. An approver's decision, after `flywheel eval --coaching candidates` gated it.",
      auth: { role: 'approver' },
      agent: agents.byAgentParam,
      schema: { params: CoachingParams, body: PromoteCoachingRequest },
      handler: async (r) =>
        written(r, 200, await promoteCoaching(service(), agentOf(r), coachingOf(r), bodyOf(r), actor(r))),
    },
    {
      method: 'POST',
      url: '/api/agents/:id/coaching/:coaching/retire',
      tag: 'coaching',
      summary: 'Retire a coaching (a new version that is not recalled); roll back to recall it again.',
      auth: { role: 'reviewer' },
      agent: agents.byAgentParam,
      schema: { params: CoachingParams, body: RetireCoachingRequest },
      handler: async (r) =>
        written(r, 200, await retireCoaching(service(), agentOf(r), coachingOf(r), bodyOf(r), actor(r))),
    },
    {
      method: 'POST',
      url: '/api/agents/:id/coaching/:coaching/rollback',
      tag: 'coaching',
      summary:
        'Roll one coaching back on its own to the version before its current one, or to `to`; nothing else changes.',
      auth: { role: 'operator' },
      agent: agents.byAgentParam,
      schema: { params: CoachingParams, body: RollbackCoachingRequest },
      handler: async (r) =>
        written(r, 200, await rollbackCoaching(service(), agentOf(r), coachingOf(r), bodyOf(r), actor(r))),
    },
  ];
}
