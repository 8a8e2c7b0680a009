import type { SituationMatrix } from './coaching-recall.js';
import { dotProduct, vectorScan, type VectorScan } from './vector-scan.js';

/**
 * An inverted-file index over an agent's situations (IVF, as in FAISS's IndexIVFFlat): the
 * unit vectors are grouped around `lists` centroids (spherical k-means), and a query scans
 * only the members of the `probes` centroids most similar to it. It is what lets recall
 * stay within a few milliseconds at 10,000 memories, where scanning every situation costs
 * ~10 ms on a busy 2-core machine; the price is that a memory in an unprobed list is not
 * recalled, which bench:coaching measures against the exact scan (`agreement`).
 *
 * The work is split into steps (one k-means round, one slice of assignments) so the index
 * service can yield to requests between them while the previous index keeps serving.
 */

export interface SituationClusters {
  lists: number;
  dimensions: number;
  /** lists × dimensions, unit rows. */
  centroids: Float32Array;
  /** Rows of the matrix per list. */
  members: Int32Array[];
  /**
   * The centroids in a scan of their own (what a query compares itself with first), a copy
   * of `centroids`: neither changes once the clusters are built.
   */
  centroidScan?: VectorScan;
}

/** √n lists, the usual IVF rule of thumb; at least one. */
export const defaultListCount = (rows: number) => Math.max(1, Math.round(Math.sqrt(rows)));

/**
 * The centroids as a scan: every row of the matrix is compared with all of them. One per
 * centroids array, kept while the array lives: a round's slices and the final assignment
 * share it instead of building a kernel memory each. Centroid arrays are never changed in
 * place (each round makes a new one), which is what makes the cache safe.
 */
const scans = new WeakMap<Float32Array, VectorScan>();

function scanOf(centroids: Float32Array, lists: number, dimensions: number): VectorScan {
  const known = scans.get(centroids);
  if (known && known.rows === lists && known.dimensions === dimensions) return known;
  const scan = vectorScan(lists, dimensions);
  scan.vectors.set(centroids.subarray(0, lists * dimensions));
  scans.set(centroids, scan);
  return scan;
}

/** The most similar centroid of one matrix row (ties to the lower list). */
function nearest(matrix: SituationMatrix, row: number, centroids: VectorScan): number {
  const d = matrix.dimensions;
  const sims = centroids.dots(matrix.vectors.subarray(row * d, row * d + d));
  let best = 0;
  let bestSim = -Infinity;
  for (let c = 0; c < sims.length; c++) {
    if (sims[c]! > bestSim) {
      bestSim = sims[c]!;
      best = c;
    }
  }
  return best;
}

/** Starting centroids: rows spread evenly over the matrix (deterministic). */
export function initialCentroids(matrix: SituationMatrix, lists: number): Float32Array {
  const d = matrix.dimensions;
  const n = matrix.candidates.length;
  const centroids = new Float32Array(lists * d);
  for (let c = 0; c < lists; c++) {
    const row = Math.floor((c * n) / lists);
    centroids.set(matrix.vectors.subarray(row * d, row * d + d), c * d);
  }
  return centroids;
}

/** The running sums of one k-means round: what its rows added to each centroid. */
export interface KmeansRound {
  sums: Float64Array;
  counts: Int32Array;
}

export const newKmeansRound = (lists: number, dimensions: number): KmeansRound => ({
  sums: new Float64Array(lists * dimensions),
  counts: new Int32Array(lists),
});

/** Adds `rows` to the round: each to its nearest centroid. */
export function accumulateRound(
  matrix: SituationMatrix,
  centroids: Float32Array,
  lists: number,
  rows: readonly number[],
  round: KmeansRound,
): void {
  const d = matrix.dimensions;
  const scan = scanOf(centroids, lists, d);
  for (const row of rows) {
    const c = nearest(matrix, row, scan);
    round.counts[c]!++;
    for (let i = 0; i < d; i++) round.sums[c * d + i]! += matrix.vectors[row * d + i]!;
  }
}

/** The new centroids: each its members' normalised mean (an empty one stays where it was). */
export function finishRound(
  centroids: Float32Array,
  lists: number,
  dimensions: number,
  round: KmeansRound,
): Float32Array {
  const d = dimensions;
  const next = new Float32Array(centroids);
  for (let c = 0; c < lists; c++) {
    if (round.counts[c] === 0) continue;
    let squares = 0;
    for (let i = 0; i < d; i++) squares += round.sums[c * d + i]! ** 2;
    const length = Math.sqrt(squares);
    if (length === 0) continue;
    for (let i = 0; i < d; i++) next[c * d + i] = round.sums[c * d + i]! / length;
  }
  return next;
}

/** One spherical k-means round over `sample` rows, in one go. */
export function kmeansRound(
  matrix: SituationMatrix,
  centroids: Float32Array,
  lists: number,
  sample: readonly number[],
): Float32Array {
  const round = newKmeansRound(lists, matrix.dimensions);
  accumulateRound(matrix, centroids, lists, sample, round);
  return finishRound(centroids, lists, matrix.dimensions, round);
}

/** The list of each row in [from, to), written into `assignment`. */
export function assignRows(
  matrix: SituationMatrix,
  centroids: Float32Array,
  lists: number,
  assignment: Int32Array,
  from: number,
  to: number,
): void {
  const scan = scanOf(centroids, lists, matrix.dimensions);
  for (let row = from; row < to; row++) assignment[row] = nearest(matrix, row, scan);
}

export function clustersOf(
  matrix: SituationMatrix,
  centroids: Float32Array,
  lists: number,
  assignment: Int32Array,
): SituationClusters {
  const counts = new Int32Array(lists);
  for (const c of assignment) counts[c]!++;
  const members = Array.from({ length: lists }, (_, c) => new Int32Array(counts[c]!));
  const filled = new Int32Array(lists);
  assignment.forEach((c, row) => {
    members[c]![filled[c]!++] = row;
  });
  return {
    lists,
    dimensions: matrix.dimensions,
    centroids,
    members,
    centroidScan: scanOf(centroids, lists, matrix.dimensions),
  };
}

/** Every row evenly spaced over the matrix, at most `size` of them: what k-means trains on. */
export function trainingSample(rows: number, size: number): number[] {
  if (rows <= size) return Array.from({ length: rows }, (_, i) => i);
  return Array.from({ length: size }, (_, i) => Math.floor((i * rows) / size));
}

/** The rows a query scans: the members of its `probes` most similar lists. */
export function probedRows(clusters: SituationClusters, query: Float32Array, probes: number): Int32Array {
  const { lists, dimensions: d, centroids } = clusters;
  const sims = clusters.centroidScan
    ? clusters.centroidScan.dots(query)
    : Float64Array.from({ length: lists }, (_, c) => dotProduct(centroids, c * d, query, d));
  // The `probes` most similar lists, ties to the lower list: a window, not a sort of all.
  const chosen: number[] = [];
  const m = Math.min(probes, lists);
  for (let c = 0; c < lists && m > 0; c++) {
    if (chosen.length === m && sims[c]! <= sims[chosen[m - 1]!]!) continue;
    let at = chosen.length === m ? m - 1 : chosen.length;
    while (at > 0 && sims[c]! > sims[chosen[at - 1]!]!) {
      chosen[at] = chosen[at - 1]!;
      at--;
    }
    chosen[at] = c;
  }
  const total = chosen.reduce((s, c) => s + clusters.members[c]!.length, 0);
  const rows = new Int32Array(total);
  let at = 0;
  for (const c of chosen) {
    rows.set(clusters.members[c]!, at);
    at += clusters.members[c]!.length;
  }
  return rows;
}
