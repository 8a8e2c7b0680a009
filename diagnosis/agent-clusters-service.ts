import type { Db } from '../db/connection.js';
import { agentExists } from '../registry/store/agent-repository.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';
import { recentClustersOfAgent } from './store/agent-cluster-reads.js';

export const DEFAULT_CLUSTER_CYCLES = 10;
export const MAX_CLUSTER_CYCLES = 100;

export interface AgentCluster {
  id: string;
  /** The id the cluster keeps across cycles; the trace search takes either. */
  stableId: string | null;
  name: string;
  category: string;
  intervention: string | null;
  size: number;
  cycleId: string;
  cycleStartedAt: string;
}

/**
 * The failure clusters of an agent's newest `cycles` cycles that clustered (newest cycle
 * first, largest cluster first): what a person picks a cluster from to search its traces.
 */
export async function clustersOfAgent(
  db: Db,
  agent: string,
  cycles = DEFAULT_CLUSTER_CYCLES,
): Promise<{ agent: string; clusters: AgentCluster[] }> {
  if (!Number.isInteger(cycles) || cycles < 1 || cycles > MAX_CLUSTER_CYCLES)
    throw new UserError(`cycles must be a whole number from 1 to ${MAX_CLUSTER_CYCLES}; got ${cycles}.`);
  if (!(await agentExists(db, agent)))
    throw new NotFoundError(`Unknown agent "${agent}"; GET /api/agents lists the agents you may read.`);
  const rows = await recentClustersOfAgent(db, agent, cycles);
  return {
    agent,
    clusters: rows.map((r) => ({
      id: r.id,
      stableId: r.stable_id,
      name: r.name,
      category: r.category,
      intervention: r.intervention,
      size: r.size,
      cycleId: r.cycle_id,
      cycleStartedAt: new Date(r.started_at).toISOString(),
    })),
  };
}
