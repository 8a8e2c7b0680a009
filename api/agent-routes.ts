import type { IncomingMessage } from 'node:http';
import type { Db } from '../db/connection.js';
import { DEFAULT_KPI_CYCLES, kpisOfAgent } from '../cycles/kpi-service.js';
import { UserError } from '../schemas/user-error.js';

/** GET /api/agents/:id/kpis[?cycles=N]: the flywheel KPIs of an agent, newest cycles first. */
export async function handleAgentRoute(
  deps: { db: Db },
  req: IncomingMessage,
  url: URL,
  parts: string[],
): Promise<{ status: number; body: unknown } | null> {
  if (req.method !== 'GET' || parts[0] !== 'api' || parts[1] !== 'agents') return null;
  if (parts.length !== 4 || parts[3] !== 'kpis' || !parts[2]) return null;
  const raw = url.searchParams.get('cycles');
  const cycles = raw === null ? DEFAULT_KPI_CYCLES : Number(raw);
  if (raw !== null && !/^\d+$/.test(raw))
    throw new UserError(`cycles must be a whole number, e.g. ?cycles=12; got "${raw}".`);
  return { status: 200, body: await kpisOfAgent(deps.db, parts[2], cycles) };
}
