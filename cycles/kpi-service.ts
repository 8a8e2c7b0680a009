import type { Db } from '../db/connection.js';
import { agentExists } from '../registry/store/agent-repository.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';
import { agentKpis, type AgentKpis } from './cycle-kpis.js';
import { cycleKpiRows } from './store/cycle-kpi-reads.js';

export const DEFAULT_KPI_CYCLES = 26;
const MAX_KPI_CYCLES = 500;

/** The flywheel KPIs of an agent over its newest `cycles` cycles (default: half a year of weeks). */
export async function kpisOfAgent(db: Db, agent: string, cycles = DEFAULT_KPI_CYCLES): Promise<AgentKpis> {
  if (!Number.isInteger(cycles) || cycles < 1 || cycles > MAX_KPI_CYCLES)
    throw new UserError(`cycles must be a whole number from 1 to ${MAX_KPI_CYCLES}; got ${cycles}.`);
  if (!(await agentExists(db, agent)))
    throw new NotFoundError(
      `Unknown agent "${agent}"; \`flywheel cycle list\` shows the agents with cycles.`,
    );
  return agentKpis(agent, await cycleKpiRows(db, agent, cycles));
}
