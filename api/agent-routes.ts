import { z } from 'zod';
import type { Db } from '../db/connection.js';
import { DEFAULT_KPI_CYCLES, kpisOfAgent } from '../cycles/kpi-service.js';
import { clustersOfAgent, DEFAULT_CLUSTER_CYCLES } from '../diagnosis/agent-clusters-service.js';
import { DEFAULT_DRIFT_ALERTS, listDriftAlerts, showDriftAlert } from '../evaluation/drift-alert-service.js';
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
const AlertParams = IdParam.extend({ alert: z.string().describe('The drift alert id') });

/** A whole-number query parameter, or its default when absent; a 400 that shows how otherwise. */
function wholeQuery(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^\d{1,6}$/.test(raw))
    throw new UserError(`${name} must be a whole number, e.g. ?${name}=${fallback}; got "${raw}".`);
  return Number(raw);
}

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
    {
      method: 'GET',
      url: '/api/agents/:id/drift-alerts',
      tag: 'agents',
      summary:
        "The agent's drift alerts, newest first (?limit=N, default 20), each with its evidence: per slice and metric the test, before and after, the p-value and its level, sample traces; the drifted traces and the cycle it started.",
      auth: { role: 'viewer' },
      agent: agents.byAgentParam,
      schema: { params: IdParam, querystring: z.object({ limit: z.string().regex(/^\d+$/).optional() }) },
      handler: async (r) => ({
        status: 200,
        body: await listDriftAlerts(
          deps.db,
          r.params.id ?? '',
          wholeQuery(r.query, 'limit', DEFAULT_DRIFT_ALERTS),
        ),
      }),
    },
    {
      method: 'GET',
      url: '/api/agents/:id/drift-alerts/:alert',
      tag: 'agents',
      summary: 'One drift alert of the agent with all its evidence and every drifted trace.',
      auth: { role: 'viewer' },
      agent: agents.byAgentParam,
      schema: { params: AlertParams },
      handler: async (r) => ({
        status: 200,
        body: await showDriftAlert(deps.db, r.params.id ?? '', r.params.alert ?? ''),
      }),
    },
    {
      method: 'GET',
      url: '/api/agents/:id/clusters',
      tag: 'agents',
      summary:
        "The failure clusters of the agent's newest cycles that clustered (?cycles=N, default 10): newest cycle first, largest cluster first. GET /api/traces?cluster= takes a cluster's id or stable id.",
      auth: { role: 'viewer' },
      agent: agents.byAgentParam,
      schema: { params: IdParam, querystring: z.object({ cycles: z.string().regex(/^\d+$/).optional() }) },
      handler: async (r) => ({
        status: 200,
        body: await clustersOfAgent(
          deps.db,
          r.params.id ?? '',
          wholeQuery(r.query, 'cycles', DEFAULT_CLUSTER_CYCLES),
        ),
      }),
    },
  ];
}
