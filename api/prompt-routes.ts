import { z } from 'zod';
import type { Db } from '../db/connection.js';
import type { WebhookSender } from '../notify/webhook-sender.js';
import {
  createPrompt,
  diffPrompt,
  labelPrompt,
  listPromptSummaries,
  listPromptVersions,
  promptLabelMoves,
  rollbackPrompt,
  showPrompt,
} from '../registry/prompt-service.js';
import { chooseAnswer } from '../release/prompt-resolver.js';
import { RoutingSnapshots } from '../release/routing-snapshot-service.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';
import { CreatePromptRequest, RollbackRequest, SetLabelRequest } from '../schemas/prompt.js';
import { principalLabel } from '../schemas/principal.js';
import { withIdentity, type ApiRoute, type RouteAnswer, type RouteRequest } from './api-route.js';
import type { ResourceAgents } from './resource-agent.js';

export interface PromptRouteDeps {
  db: Db;
  /** The process's routing cache; one is made per deps object when absent. */
  routing?: RoutingSnapshots;
  webhook?: WebhookSender;
  /**
   * Cache-Control max-age of resolve answers (seconds, default 1). A client that honours it
   * (client/flywheel-client.ts does) sees a weight change at most max-age plus the routing
   * refresh bound (api/routing-snapshot.ts) after it was committed.
   */
  resolveMaxAgeSeconds?: number;
}

const fallbackRouting = new WeakMap<PromptRouteDeps, RoutingSnapshots>();

export function routingOf(deps: PromptRouteDeps): RoutingSnapshots {
  if (deps.routing) return deps.routing;
  let routing = fallbackRouting.get(deps);
  if (!routing) fallbackRouting.set(deps, (routing = new RoutingSnapshots(deps.db)));
  return routing;
}

function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (!header) return false;
  const value = Array.isArray(header) ? header.join(',') : header;
  return value.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

async function resolve(deps: PromptRouteDeps, request: RouteRequest): Promise<RouteAnswer> {
  const name = request.params.name ?? '';
  const unit = request.query.get('unit');
  if (!unit) throw new UserError('Pass the unit key to bucket on: ?unit=<user or session id>.');
  const snapshot = await routingOf(deps).get(name);
  if (!snapshot.exists)
    throw new NotFoundError(
      `No prompt named "${name}"; list them with GET /api/prompts or \`flywheel prompt list\`.`,
    );
  const answer = chooseAnswer(snapshot, snapshot.answers, unit);
  if (!answer)
    throw new NotFoundError(
      `Prompt "${name}" has no production version; label one: \`flywheel prompt label ${name} <version> production --actor <you>\`.`,
    );
  const headers = { etag: answer.etag, 'cache-control': `max-age=${deps.resolveMaxAgeSeconds ?? 1}` };
  if (etagMatches(request.headers['if-none-match'], answer.etag)) return { status: 304, headers };
  return { status: 200, json: answer.json, headers };
}

const [TextPrompt, ChatPrompt] = CreatePromptRequest.options;
const CreatePromptBody = z.discriminatedUnion('type', [
  TextPrompt.omit({ actor: true }),
  ChatPrompt.omit({ actor: true }),
]);
const NameParam = z.object({ name: z.string().describe('The prompt name') });

/** The prompt registry over HTTP; writes record the authenticated person as their actor. */
export function promptRoutes(deps: PromptRouteDeps, agents: ResourceAgents): ApiRoute[] {
  const options = () => ({ ...(deps.webhook ? { webhook: deps.webhook } : {}) });
  const written = async (name: string, answer: unknown): Promise<RouteAnswer> => {
    await routingOf(deps).invalidate(name);
    return { status: 200, body: answer };
  };
  const actor = (r: RouteRequest) => principalLabel(r.principal);
  return [
    {
      method: 'GET',
      url: '/api/prompts/:name/resolve',
      tag: 'prompts',
      summary:
        "The version to serve to one unit (user or session): production, or the rollout's candidate for the units in its weight. ETag and Cache-Control; 304 on If-None-Match.",
      // Agents resolve with their own token; people may look at what a unit would get.
      auth: [{ scope: 'resolve' }, { role: 'viewer' }],
      agent: agents.byPrompt,
      schema: { params: NameParam, querystring: z.object({ unit: z.string().min(1) }) },
      handler: (r) => resolve(deps, r),
    },
    {
      method: 'GET',
      url: '/api/prompts',
      tag: 'prompts',
      summary: 'Prompt names with their labels and latest version.',
      auth: { role: 'viewer' },
      agent: agents.byAgentQuery,
      schema: { querystring: z.object({ agent: z.string().optional() }) },
      handler: async (r) => ({
        status: 200,
        body: { data: await listPromptSummaries(deps.db, r.query.get('agent') ?? undefined) },
      }),
    },
    {
      method: 'POST',
      url: '/api/prompts',
      tag: 'prompts',
      summary: 'Create a prompt version (text or chat), optionally labelled.',
      auth: { role: 'operator' },
      agentInBody: true,
      schema: { body: CreatePromptBody },
      handler: async (r) => {
        const body = withIdentity(r.json(), 'actor', actor(r));
        if (typeof body.agent === 'string') r.requireAgent(body.agent);
        else if (typeof body.name === 'string') r.requireAgent(body.name);
        const created = await createPrompt(deps.db, body, options());
        await routingOf(deps).invalidate(created.prompt.name);
        return { status: 201, body: created };
      },
    },
    {
      method: 'GET',
      url: '/api/prompts/:name',
      tag: 'prompts',
      summary: 'One prompt version: by ?version=, by ?label=, or the latest.',
      auth: { role: 'viewer' },
      agent: agents.byPrompt,
      schema: {
        params: NameParam,
        querystring: z.object({ version: z.string().optional(), label: z.string().optional() }),
      },
      handler: async (r) => ({
        status: 200,
        body: await showPrompt(deps.db, r.params.name ?? '', {
          version: r.query.get('version'),
          label: r.query.get('label'),
        }),
      }),
    },
    {
      method: 'GET',
      url: '/api/prompts/:name/versions',
      tag: 'prompts',
      summary: 'Every version of a prompt, newest first, with its labels, source and author (no bodies).',
      auth: { role: 'viewer' },
      agent: agents.byPrompt,
      schema: { params: NameParam },
      handler: async (r) => ({ status: 200, body: await listPromptVersions(deps.db, r.params.name ?? '') }),
    },
    {
      method: 'GET',
      url: '/api/prompts/:name/label-moves',
      tag: 'prompts',
      summary: "The audited moves of a prompt's labels, newest first: label, from and to version, who, why.",
      auth: { role: 'viewer' },
      agent: agents.byPrompt,
      schema: { params: NameParam },
      handler: async (r) => ({ status: 200, body: await promptLabelMoves(deps.db, r.params.name ?? '') }),
    },
    {
      method: 'POST',
      url: '/api/prompts/:name/labels',
      tag: 'prompts',
      summary: 'Move a label (production, staging, …) to a version.',
      auth: { role: 'operator' },
      agent: agents.byPrompt,
      schema: { params: NameParam, body: SetLabelRequest.omit({ actor: true }) },
      handler: async (r) =>
        written(
          r.params.name ?? '',
          await labelPrompt(
            deps.db,
            r.params.name ?? '',
            withIdentity(r.json(), 'actor', actor(r)),
            options(),
          ),
        ),
    },
    {
      method: 'POST',
      url: '/api/prompts/:name/rollback',
      tag: 'prompts',
      summary: 'Move a label back to where it pointed before, or to a given version.',
      auth: { role: 'operator' },
      agent: agents.byPrompt,
      schema: { params: NameParam, body: RollbackRequest.omit({ actor: true }) },
      handler: async (r) =>
        written(
          r.params.name ?? '',
          await rollbackPrompt(
            deps.db,
            r.params.name ?? '',
            withIdentity(r.json(), 'actor', actor(r)),
            options(),
          ),
        ),
    },
    {
      method: 'GET',
      url: '/api/prompts/:name/diff',
      tag: 'prompts',
      summary: 'Text diff between two versions (?from=&to=, numbers or labels).',
      auth: { role: 'viewer' },
      agent: agents.byPrompt,
      schema: {
        params: NameParam,
        querystring: z.object({ from: z.string().optional(), to: z.string().optional() }),
      },
      handler: async (r) => ({
        status: 200,
        body: await diffPrompt(deps.db, r.params.name ?? '', r.query.get('from'), r.query.get('to')),
      }),
    },
  ];
}
