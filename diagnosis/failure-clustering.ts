import { hdbscan } from './hdbscan.js';

export interface FailureGroup {
  /** Indexes into the input, in input order. */
  members: number[];
  /** HDBSCAN membership strength; 0 for attached noise. */
  probabilities: number[];
  /** True for noise points attached to this group (their nearest cluster). */
  noise: boolean[];
}

export interface FailureClusteringOptions {
  minClusterSize: number;
  minSamples?: number | undefined;
  /** Cosine distance below which clusters are not split further (HDBSCAN(ε̂)). */
  selectionEpsilon?: number | undefined;
}

/**
 * Density clustering of failure embeddings (cosine HDBSCAN). Noise points are not dropped:
 * each joins the cluster of its nearest clustered point, flagged as noise, so every
 * failure stays in the report and can be recovered. When nothing is dense enough to be a
 * cluster (few failures, or all different), all failures form one group.
 */
export function clusterFailures(
  vectors: readonly (readonly number[])[],
  options: FailureClusteringOptions,
): FailureGroup[] {
  if (vectors.length === 0) return [];
  const result = hdbscan(vectors, {
    minClusterSize: options.minClusterSize,
    ...(options.minSamples ? { minSamples: options.minSamples } : {}),
    metric: 'cosine',
    ...(options.selectionEpsilon ? { clusterSelectionEpsilon: options.selectionEpsilon } : {}),
  });
  const groups = new Map<number, FailureGroup>();
  result.labels.forEach((own, i) => {
    const label = own >= 0 ? own : (result.nearestCluster[i] ?? 0);
    const g = groups.get(label) ?? { members: [], probabilities: [], noise: [] };
    g.members.push(i);
    g.probabilities.push(own >= 0 ? result.probabilities[i]! : 0);
    g.noise.push(own < 0);
    groups.set(label, g);
  });
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
}
