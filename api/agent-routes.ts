import type { IncomingMessage } from 'node:http';
import type { Db } from '../db/connection.js';
import { DEFAULT_KPI_CYCLES, kpisOfAgent } from '../cycles/kpi-service.js';
import { createAgent, listAgents, showAgent, updateAgent } from '../registry/agent-service.js';
import type { WebhookSender } from '../notify/webhook-sender.js';
import { forgetAttributionRules } from '../traces/span-attribution-service.js';
import { UserError } from '../schemas/user-error.js';

export interface AgentRouteDeps {
  db: Db;
  now?: () => Date;
  webhook?: WebhookSender;
}

/**
 * Agents over HTTP:
 * GET /api/agents, POST /api/agents `{ id, displayName?, description?, config?, actor, reason? }`,
 * GET /api/agents/:id, PATCH /api/agents/:id `{ displayName?, description?, set?, match?,
 * unmatch?, actor, reason? }`, GET /api/agents/:id/kpis[?cycles=N].
 * Like the other operator routes, writes name the person acting in the body; user sign-in
 * and roles come with issue 18.
 */
export async function handleAgentRoute(
  deps: AgentRouteDeps,
  req: IncomingMessage,
  url: URL,
  parts: string[],
  readJson: () => Promise<unknown>,
): Promise<{ status: number; body: unknown } | null> {
  if (parts[0] !== 'api' || parts[1] !== 'agents' || parts.length > 4) return null;
  const [, , agent, action] = parts;
  const now = deps.now?.() ?? new Date();
  const method = req.method ?? 'GET';
  if (agent === undefined) {
    if (method === 'GET') return { status: 200, body: { data: await listAgents(deps.db, now) } };
    if (method === 'POST') {
      const created = await createAgent(deps.db, await readJson(), now);
      // A new agent may bring attribution rules; this process's ingest sees them at once.
      forgetAttributionRules(deps.db);
      return { status: 201, body: created };
    }
    return null;
  }
  if (action === undefined) {
    if (method === 'GET') return { status: 200, body: await showAgent(deps.db, agent, now) };
    if (method === 'PATCH') {
      const options = deps.webhook ? { webhook: deps.webhook } : {};
      const updated = await updateAgent(deps.db, agent, await readJson(), now, options);
      if (updated.changed) forgetAttributionRules(deps.db);
      return { status: 200, body: updated };
    }
    return null;
  }
  if (action !== 'kpis' || method !== 'GET') return null;
  const raw = url.searchParams.get('cycles');
  const cycles = raw === null ? DEFAULT_KPI_CYCLES : Number(raw);
  if (raw !== null && !/^\d+$/.test(raw))
    throw new UserError(`cycles must be a whole number, e.g. ?cycles=12; got "${raw}".`);
  return { status: 200, body: await kpisOfAgent(deps.db, agent, cycles) };
}
