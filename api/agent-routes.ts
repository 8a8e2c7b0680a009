import { z } from 'zod';
import type { Db } from '../db/connection.js';
import { DEFAULT_KPI_CYCLES, kpisOfAgent } from '../cycles/kpi-service.js';
import { onlineEvaluationStatus } from '../evaluation/online-evaluation-service.js';
import { createAgent, listAgents, showAgent, updateAgent } from '../registry/agent-service.js';
import type { WebhookSender } from '../notify/webhook-sender.js';
import { forgetAttributionRules } from '../traces/span-attribution-service.js';
import { AgentCreateRequest, AgentPatchFields } from '../schemas/agent-registration.js';
import { allows, principalLabel } from '../schemas/principal.js';
import { UserError } from '../schemas/user-error.js';
import { withIdentity, type ApiRoute } from './api-route.js';
import type { ResourceAgents } from './resource-agent.js';

export interface AgentRouteDeps {
  db: Db;
  now?: () => Date;
  webhook?: WebhookSender;
}

const IdParam = z.object({ id: z.string() });

/** Agents over HTTP; every change is audited under the authenticated person. */
export function agentRoutes(deps: AgentRouteDeps, agents: ResourceAgents): ApiRoute[] {
  const now = () => deps.now?.() ?? new Date();
  return [
    {
      method: 'GET',
      url: '/api/agents',
      tag: 'agents',
      summary: 'Agents with their traffic and last cycle: those you hold a role for.',
      auth: { role: 'viewer' },
      filtersToGrants: true,
      handler: async (r) => {
        const agents = await listAgents(deps.db, now());
        return {
          status: 200,
          body: { data: agents.filter((a) => allows(r.principal, { role: 'viewer' }, a.id)) },
        };
      },
    },
    {
      method: 'POST',
      url: '/api/agents',
      tag: 'agents',
      summary: 'Register an agent, optionally with configuration and attribution rules.',
      auth: { role: 'admin' },
      schema: { body: AgentCreateRequest.omit({ actor: true }) },
      handler: async (r) => {
        const created = await createAgent(
          deps.db,
          withIdentity(r.json(), 'actor', principalLabel(r.principal)),
          now(),
        );
        // A new agent may bring attribution rules; this process's ingest sees them at once.
        forgetAttributionRules(deps.db);
        return { status: 201, body: created };
      },
    },
    {
      method: 'GET',
      url: '/api/agents/:id',
      tag: 'agents',
      summary: 'One agent: configuration, rules, tokens, traffic, last cycle.',
      auth: { role: 'viewer' },
      agent: agents.byAgentParam,
      schema: { params: IdParam },
      handler: async (r) => ({ status: 200, body: await showAgent(deps.db, r.params.id ?? '', now()) }),
    },
    {
      method: 'PATCH',
      url: '/api/agents/:id',
      tag: 'agents',
      summary: 'Change display name, description, configuration keys (`set`) or attribution rules.',
      auth: { role: 'operator' },
      agent: agents.byAgentParam,
      schema: { params: IdParam, body: AgentPatchFields.omit({ actor: true }) },
      handler: async (r) => {
        const options = deps.webhook ? { webhook: deps.webhook } : {};
        const updated = await updateAgent(
          deps.db,
          r.params.id ?? '',
          withIdentity(r.json(), 'actor', principalLabel(r.principal)),
          now(),
          options,
        );
        if (updated.changed) forgetAttributionRules(deps.db);
        return { status: 200, body: updated };
      },
    },
    {
      method: 'GET',
      url: '/api/agents/:id/kpis',
      tag: 'agents',
      summary: "The agent's KPIs over its last cycles (?cycles=N).",
      auth: { role: 'viewer' },
      agent: agents.byAgentParam,
      schema: { params: IdParam, querystring: z.object({ cycles: z.string().regex(/^\d+$/).optional() }) },
      handler: async (r) => {
        const raw = r.query.get('cycles');
        if (raw !== null && !/^\d+$/.test(raw))
          throw new UserError(`cycles must be a whole number, e.g. ?cycles=12; got "${raw}".`);
        const cycles = raw === null ? DEFAULT_KPI_CYCLES : Number(raw);
        return { status: 200, body: await kpisOfAgent(deps.db, r.params.id ?? '', cycles) };
      },
    },
    {
      method: 'GET',
      url: '/api/agents/:id/online-evaluation',
      tag: 'agents',
      summary:
        "Online evaluation and drift alerts of the agent: today's spend against the cap, the latest runs, the detector's state and the latest alerts with their evidence.",
      auth: { role: 'viewer' },
      agent: agents.byAgentParam,
      schema: { params: IdParam },
      handler: async (r) => ({
        status: 200,
        body: await onlineEvaluationStatus(deps.db, r.params.id ?? '', now()),
      }),
    },
  ];
}
