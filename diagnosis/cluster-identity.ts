import { cosineSimilarity } from './vector-math.js';

/**
 * Stable cluster ids across cycles, so "missing confirmation before cancel" keeps one id
 * (and its history, annotations, fixes) from one cycle to the next even though HDBSCAN
 * numbers clusters afresh each run. A current cluster inherits a previous id when their
 * centroids point the same way or they share many traces (a trace can be clustered again
 * when it is re-scored); otherwise it gets a new id.
 */

export interface PreviousCluster {
  id: string;
  centroid: readonly number[];
  /** Trace ids. */
  members: readonly string[];
}

export interface CurrentCluster {
  centroid: readonly number[];
  members: readonly string[];
}

export interface ClusterIdentityOptions {
  /** Centroid cosine similarity at or above which two clusters may be the same. */
  minSimilarity?: number;
  /** Member Jaccard overlap at or above which two clusters may be the same. */
  minOverlap?: number;
  /** The id for an unmatched current cluster, given its index in `current`. */
  newId: (index: number) => string;
}

export interface ClusterIdentity {
  id: string;
  previousId: string | null;
  /**
   * Against the matched previous cluster; for a new cluster, against the closest previous
   * one (0 when there was none), so a near miss is visible.
   */
  similarity: number;
  overlap: number;
}

/**
 * Meant for model embeddings. With the hashed TF-IDF fallback a centroid keeps much of its
 * members' individual wording: for clusters of five texts, the same failure mode in two
 * cycles measured 0.69-0.79 and different failure modes 0.09-0.25, so about 0.5 suits it.
 * Larger clusters average their wording out and come closer.
 */
export const DEFAULT_MIN_CLUSTER_SIMILARITY = 0.75;
export const DEFAULT_MIN_CLUSTER_OVERLAP = 0.5;

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 0;
  let shared = 0;
  for (const x of a) if (b.has(x)) shared += 1;
  return shared / (a.size + b.size - shared);
}

/**
 * Centroids of different dimensions come from different embedders (the model was configured
 * or changed between cycles, or the local fallback took over), and their coordinates mean
 * different things, so their similarity is unknown: 0. Shared members can still match them.
 */
function centroidSimilarity(a: readonly number[], b: readonly number[]): number {
  return a.length === b.length && a.length > 0 ? cosineSimilarity(a, b) : 0;
}

/**
 * One-to-one matching, greedy by score (similarity + overlap), ties to the lower current then
 * previous index. The sum lets shared members break a tie between similar centroids: when a
 * cluster splits, the part that kept the old traces keeps the old id and the other part is
 * new. Greedy rather than optimal assignment: a clear best pair should win even if a global
 * optimum would trade it for two mediocre ones.
 */
export function assignClusterIds(
  previous: readonly PreviousCluster[],
  current: readonly CurrentCluster[],
  options: ClusterIdentityOptions,
): ClusterIdentity[] {
  const minSimilarity = options.minSimilarity ?? DEFAULT_MIN_CLUSTER_SIMILARITY;
  const minOverlap = options.minOverlap ?? DEFAULT_MIN_CLUSTER_OVERLAP;
  const previousIds = new Set<string>();
  for (const p of previous) {
    if (previousIds.has(p.id))
      throw new Error(`Previous clusters must have distinct ids; "${p.id}" appears twice.`);
    previousIds.add(p.id);
  }

  const previousMembers = previous.map((p) => new Set(p.members));
  const scores = current.map((c) => {
    const members = new Set(c.members);
    return previous.map((p, j) => ({
      similarity: centroidSimilarity(c.centroid, p.centroid),
      overlap: jaccard(members, previousMembers[j] as Set<string>),
    }));
  });
  const candidates: { i: number; j: number; score: number }[] = [];
  scores.forEach((row, i) =>
    row.forEach(({ similarity, overlap }, j) => {
      if (similarity >= minSimilarity || overlap >= minOverlap)
        candidates.push({ i, j, score: similarity + overlap });
    }),
  );
  candidates.sort((x, y) => y.score - x.score || x.i - y.i || x.j - y.j);

  const matchOf = new Map<number, number>();
  const taken = new Set<number>();
  for (const { i, j } of candidates) {
    if (matchOf.has(i) || taken.has(j)) continue;
    matchOf.set(i, j);
    taken.add(j);
  }

  const newIds = new Set<string>();
  return current.map((_, i) => {
    const row = scores[i] as { similarity: number; overlap: number }[];
    const j = matchOf.get(i);
    if (j !== undefined) {
      const id = (previous[j] as PreviousCluster).id;
      return { id, previousId: id, ...(row[j] as { similarity: number; overlap: number }) };
    }
    const id = options.newId(i);
    if (previousIds.has(id) || newIds.has(id)) {
      throw new Error(`newId(${i}) returned "${id}", which is already a cluster id; new ids must be unique.`);
    }
    newIds.add(id);
    let closest = { similarity: 0, overlap: 0 };
    for (const s of row) if (s.similarity + s.overlap > closest.similarity + closest.overlap) closest = s;
    return { id, previousId: null, ...closest };
  });
}
