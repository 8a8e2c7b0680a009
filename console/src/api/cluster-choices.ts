import type { AgentCluster } from '../../../diagnosis/agent-clusters-service.js';
import type { Json } from './types.js';

export type Cluster = Json<AgentCluster>;

/** One entry of the trace search's cluster picker. */
export interface ClusterChoice {
  /** What GET /api/traces?cluster= gets: the stable id when the cluster has one (it spans cycles). */
  value: string;
  label: string;
}

const words = (s: string) => s.replace(/_/g, ' ');

/**
 * The cluster picker's entries from the agent's clusters, newest cycle first as the API
 * lists them: a cluster that came back in several cycles (one stable id) is one entry under
 * its newest name, with how many of those cycles it was in. A cluster the address names that
 * is not an entry (one cycle's cluster id, an older cycle's) stays pickable, so a shared link
 * keeps its filter.
 */
export function clusterChoices(clusters: readonly Cluster[], current: string | undefined): ClusterChoice[] {
  const byValue = new Map<string, { newest: Cluster; cycles: Set<string> }>();
  for (const c of clusters) {
    const value = c.stableId ?? c.id;
    const seen = byValue.get(value);
    if (seen) seen.cycles.add(c.cycleId);
    else byValue.set(value, { newest: c, cycles: new Set([c.cycleId]) });
  }
  const choices = [...byValue.entries()].map(([value, { newest, cycles }]) => ({
    value,
    label: `${newest.name} (${words(newest.category)}, ${newest.size} trace${newest.size === 1 ? '' : 's'}${
      cycles.size > 1 ? `, in ${cycles.size} cycles` : ''
    })`,
  }));
  if (!current || byValue.has(current)) return choices;
  const exact = clusters.find((c) => c.id === current);
  return [
    ...choices,
    {
      value: current,
      label: exact ? `${exact.name} (cycle ${exact.cycleId} only)` : `${current} (not in the newest cycles)`,
    },
  ];
}
