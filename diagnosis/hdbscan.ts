/**
 * HDBSCAN (Campello, Moulavi & Sander 2013), following scikit-learn's `HDBSCAN` (the
 * hdbscan library's algorithm) step by step, so its documentation and intuitions carry
 * over: core distances, mutual reachability, a minimum spanning tree, the single-linkage
 * tree, the condensed tree, stability, and excess-of-mass (or leaf) selection. Clusters may
 * have different densities and their number is found, not given; points in no dense region
 * are noise, but each keeps its nearest cluster so nothing is lost.
 *
 * Brute force on a dense distance matrix: O(n²) memory and time, fine for the few thousand
 * failures of one cycle (3,000 texts: about 3 s). Deterministic, and the partition does not
 * depend on the order of the input (see `condense`); the one remaining choice, the nearest
 * cluster of a noise point between equidistant points, goes to the lower index.
 */

export type HdbscanMetric = 'cosine' | 'euclidean' | 'precomputed';

export interface HdbscanOptions {
  /** Smallest group reported as a cluster; smaller groups are noise. At least 2. */
  minClusterSize?: number;
  /**
   * Neighbourhood size for the core distance, counting the point itself (as scikit-learn
   * does): larger is more conservative, more points become noise. Defaults to minClusterSize.
   */
  minSamples?: number;
  /**
   * 'cosine' (1 − cosine similarity) suits text embeddings; 'precomputed' reads `data` as a
   * symmetric distance matrix (Infinity allowed for "unrelated").
   */
  metric?: HdbscanMetric;
  clusterSelectionMethod?: 'eom' | 'leaf';
  /** Lets the whole data set be one cluster; off by default, as in scikit-learn. */
  allowSingleCluster?: boolean;
  /** Clusters that split below this distance are kept whole (Malzer & Baum 2020). */
  clusterSelectionEpsilon?: number;
}

export interface HdbscanResult {
  /** Cluster of each point, -1 for noise; clusters numbered 0.. by their lowest member index. */
  labels: number[];
  /** Membership strength in [0, 1] (0 for noise), as scikit-learn's `probabilities_`. */
  probabilities: number[];
  /** GLOSH outlier score in [0, 1]: how much sparser a point is than the densest part of its cluster. */
  outlierScores: number[];
  /** For noise points, the cluster of the nearest clustered point by mutual reachability; null otherwise. */
  nearestCluster: (number | null)[];
  nearestClusterDistance: (number | null)[];
}

const NOISE = -1;

/** Pairwise distances as a dense row-major matrix. */
function distanceMatrix(data: readonly (readonly number[])[], metric: HdbscanMetric): Float64Array {
  const n = data.length;
  const d = new Float64Array(n * n);
  if (metric === 'precomputed') {
    for (let i = 0; i < n; i++) {
      const row = data[i] as readonly number[];
      if (row.length !== n)
        throw new Error(
          `A precomputed distance matrix must be square: row ${i} has ${row.length} entries, expected ${n}.`,
        );
      for (let j = 0; j < n; j++) {
        const x = row[j] as number;
        if (!(x >= 0)) throw new Error(`Distances must be non-negative numbers, got ${x} at [${i}][${j}].`);
        d[i * n + j] = i === j ? 0 : x;
      }
    }
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const x = d[i * n + j] as number;
        const y = d[j * n + i] as number;
        if (x !== y && Math.abs(x - y) > 1e-9 * Math.max(1, Math.abs(x))) {
          throw new Error(
            `A precomputed distance matrix must be symmetric: [${i}][${j}] = ${x} but [${j}][${i}] = ${y}.`,
          );
        }
      }
    }
    return d;
  }

  const dims = data[0]?.length ?? 0;
  for (const [i, v] of data.entries()) {
    if (v.length !== dims)
      throw new Error(`All points need the same dimension: point ${i} has ${v.length}, point 0 has ${dims}.`);
    if (!v.every(Number.isFinite)) throw new Error(`Point ${i} has a non-finite coordinate.`);
  }
  if (metric === 'euclidean') {
    for (let i = 0; i < n; i++) {
      const a = data[i] as readonly number[];
      for (let j = i + 1; j < n; j++) {
        const b = data[j] as readonly number[];
        let s = 0;
        for (let k = 0; k < dims; k++) s += ((a[k] as number) - (b[k] as number)) ** 2;
        d[i * n + j] = d[j * n + i] = Math.sqrt(s);
      }
    }
    return d;
  }
  // Unit vectors kept sparse: hashed TF-IDF vectors are mostly zeros, and a dot product over
  // one side's non-zeros (the other side scattered into a dense row) is what makes a few
  // thousand texts take seconds rather than tens of seconds. Dense vectors cost the same as before.
  const units = data.map((v) => {
    const length = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    if (length === 0) return null;
    const index: number[] = [];
    const value: number[] = [];
    v.forEach((x, k) => {
      if (x === 0) return;
      index.push(k);
      value.push(x / length);
    });
    return { index: Int32Array.from(index), value: Float64Array.from(value) };
  });
  const row = new Float64Array(dims);
  for (let i = 0; i < n; i++) {
    const a = units[i];
    if (a) for (let k = 0; k < a.index.length; k++) row[a.index[k] as number] = a.value[k] as number;
    for (let j = i + 1; j < n; j++) {
      const b = units[j];
      let distance = 1; // a zero vector has no direction: unrelated to everything, as in scikit-learn
      if (a && b) {
        let s = 0;
        for (let k = 0; k < b.index.length; k++)
          s += (b.value[k] as number) * (row[b.index[k] as number] as number);
        distance = Math.min(2, Math.max(0, 1 - s));
        // Duplicates must be exactly 0 apart, not a rounding error that would order them.
        if (distance < 1e-12) distance = 0;
      }
      d[i * n + j] = d[j * n + i] = distance;
    }
    if (a) for (let k = 0; k < a.index.length; k++) row[a.index[k] as number] = 0;
  }
  return d;
}

/** Distance to the (minSamples−1)-th nearest other point: the point itself is the first of its minSamples. */
function coreDistances(d: Float64Array, n: number, minSamples: number): Float64Array {
  const k = Math.min(minSamples, n) - 1;
  const core = new Float64Array(n);
  if (k <= 0) return core;
  const others = new Float64Array(n - 1);
  for (let i = 0; i < n; i++) {
    for (let j = 0, o = 0; j < n; j++) if (j !== i) others[o++] = d[i * n + j] as number;
    others.sort();
    core[i] = others[k - 1] as number;
  }
  return core;
}

interface Edge {
  a: number;
  b: number;
  distance: number;
}

/**
 * Prim's algorithm on the mutual reachability graph, recording each new node against the
 * node added just before it (as scikit-learn does) rather than its true neighbour in the
 * tree. That path has the same single-linkage hierarchy: the widest gap between two points
 * in Prim order is their minimax distance.
 */
function primPath(d: Float64Array, core: Float64Array, n: number): Edge[] {
  const inTree = new Uint8Array(n);
  const best = new Float64Array(n).fill(Infinity);
  const edges: Edge[] = [];
  let current = 0;
  for (let step = 1; step < n; step++) {
    inTree[current] = 1;
    let next = -1;
    let nextDistance = Infinity;
    for (let j = 0; j < n; j++) {
      if (inTree[j]) continue;
      const reach = Math.max(core[current] as number, core[j] as number, d[current * n + j] as number);
      if (reach < (best[j] as number)) best[j] = reach;
      if (next === -1 || (best[j] as number) < nextDistance) {
        next = j;
        nextDistance = best[j] as number;
      }
    }
    edges.push({ a: current, b: next, distance: nextDistance });
    current = next;
  }
  return edges;
}

/**
 * The single-linkage tree in scipy's format: merge i joins nodes left and right into node
 * n + i. Edges are taken by distance; equal distances stay in Prim order, which `condense`
 * then makes irrelevant.
 */
function singleLinkage(
  edges: Edge[],
  n: number,
): { left: Int32Array; right: Int32Array; distance: Float64Array; size: Int32Array } {
  const sorted = [...edges].sort((x, y) => x.distance - y.distance);
  const m = sorted.length;
  const left = new Int32Array(m);
  const right = new Int32Array(m);
  const distance = new Float64Array(m);
  const size = new Int32Array(m);
  const parent = new Int32Array(n + m).map((_, i) => i);
  const weight = new Int32Array(n + m).fill(1);
  const find = (x: number): number => {
    let root = x;
    while (parent[root] !== root) root = parent[root] as number;
    while (x !== root) {
      const up = parent[x] as number;
      parent[x] = root;
      x = up;
    }
    return root;
  };
  sorted.forEach((edge, i) => {
    const l = find(edge.a);
    const r = find(edge.b);
    left[i] = l;
    right[i] = r;
    distance[i] = edge.distance;
    size[i] = weight[n + i] = (weight[l] as number) + (weight[r] as number);
    parent[l] = parent[r] = n + i;
  });
  return { left, right, distance, size };
}

/**
 * The condensed tree: walking down from the root, a merge where at least two parts have
 * minClusterSize points or more is a split into new clusters; the smaller parts' points fall
 * out of the current cluster at that λ = 1 / distance. Clusters are numbered in breadth-first
 * order from the root (0), so a parent always has a lower number than its children.
 */
interface CondensedTree {
  clusterParent: number[];
  clusterBirth: number[];
  clusterSize: number[];
  clusterChildren: number[][];
  /** The cluster each point falls out of, and the λ at which it does. */
  pointCluster: Int32Array;
  pointLambda: Float64Array;
}

/**
 * Merges at the same distance are read as one merge of all their parts. Mutual reachability
 * makes such ties common (many edges weigh exactly some point's core distance), and the
 * binary tree orders them arbitrarily: scikit-learn by an unstable sort, so two small groups
 * tied with a big one may first join each other, pass minClusterSize, and come out as a
 * cluster born and dissolved at the same λ, or a stray point may join whichever cluster came
 * first. Grouping makes the result independent of tie order (and so of the order of the
 * input), and it is why points at distance 0 from each other are never split apart. Without
 * ties this is exactly scikit-learn's condensed tree.
 */
function condense(tree: ReturnType<typeof singleLinkage>, n: number, minClusterSize: number): CondensedTree {
  const sizeOf = (node: number) => (node < n ? 1 : (tree.size[node - n] as number));
  const out: CondensedTree = {
    clusterParent: [-1],
    clusterBirth: [0],
    clusterSize: [n],
    clusterChildren: [[]],
    pointCluster: new Int32Array(n),
    pointLambda: new Float64Array(n),
  };
  const dropPoints = (node: number, cluster: number, lambda: number) => {
    const stack = [node];
    while (stack.length > 0) {
      const x = stack.pop() as number;
      if (x < n) {
        out.pointCluster[x] = cluster;
        out.pointLambda[x] = lambda;
      } else stack.push(tree.left[x - n] as number, tree.right[x - n] as number);
    }
  };
  const newCluster = (parent: number, lambda: number, size: number) => {
    out.clusterParent.push(parent);
    out.clusterBirth.push(lambda);
    out.clusterSize.push(size);
    out.clusterChildren.push([]);
    const id = out.clusterParent.length - 1;
    (out.clusterChildren[parent] as number[]).push(id);
    return id;
  };
  /** The parts a merge joins: its descendants below its distance, left to right. */
  const parts = (node: number, distance: number) => {
    const found: number[] = [];
    const stack = [node];
    while (stack.length > 0) {
      const x = stack.pop() as number;
      if (x >= n && tree.distance[x - n] === distance)
        stack.push(tree.right[x - n] as number, tree.left[x - n] as number);
      else found.push(x);
    }
    return found;
  };
  // Breadth-first over merges (node, the cluster it belongs to), as scikit-learn numbers clusters.
  let queue: [number, number][] = n > 1 ? [[2 * n - 2, 0]] : [];
  while (queue.length > 0) {
    const next: [number, number][] = [];
    for (const [node, cluster] of queue) {
      const distance = tree.distance[node - n] as number;
      const lambda = distance > 0 ? 1 / distance : Infinity;
      const all = parts(node, distance);
      const big = all.filter((x) => sizeOf(x) >= minClusterSize);
      for (const x of all) if (sizeOf(x) < minClusterSize) dropPoints(x, cluster, lambda);
      if (big.length === 1) next.push([big[0] as number, cluster]);
      else for (const x of big) next.push([x, newCluster(cluster, lambda, sizeOf(x))]);
    }
    queue = next;
  }
  return out;
}

/**
 * Stability of each cluster: Σ over its points and child clusters of (λ at which they leave
 * − λ at which the cluster was born) × their size; the excess of mass the cluster holds.
 */
function stabilities(t: CondensedTree): number[] {
  const s = t.clusterBirth.map(() => 0);
  for (let p = 0; p < t.pointCluster.length; p++) {
    const c = t.pointCluster[p] as number;
    s[c] = (s[c] as number) + ((t.pointLambda[p] as number) - (t.clusterBirth[c] as number));
  }
  for (let c = 1; c < t.clusterParent.length; c++) {
    const parent = t.clusterParent[c] as number;
    s[parent] =
      (s[parent] as number) +
      ((t.clusterBirth[c] as number) - (t.clusterBirth[parent] as number)) * (t.clusterSize[c] as number);
  }
  return s;
}

function descendants(t: CondensedTree, c: number): number[] {
  const out: number[] = [];
  const stack = [...(t.clusterChildren[c] as number[])];
  while (stack.length > 0) {
    const x = stack.pop() as number;
    out.push(x);
    stack.push(...(t.clusterChildren[x] as number[]));
  }
  return out;
}

/** scikit-learn's epsilon search: a leaf born closer than ε gives way to its first ancestor born farther than ε. */
function epsilonSearch(
  t: CondensedTree,
  candidates: number[],
  epsilon: number,
  allowSingleCluster: boolean,
): Set<number> {
  const selected = new Set<number>();
  const processed = new Set<number>();
  for (const leaf of candidates) {
    if (1 / (t.clusterBirth[leaf] as number) >= epsilon) {
      selected.add(leaf);
      continue;
    }
    if (processed.has(leaf)) continue;
    let node = leaf;
    let chosen = leaf;
    for (;;) {
      const parent = t.clusterParent[node] as number;
      if (parent === 0) {
        chosen = allowSingleCluster ? 0 : node;
        break;
      }
      if (1 / (t.clusterBirth[parent] as number) > epsilon) {
        chosen = parent;
        break;
      }
      node = parent;
    }
    selected.add(chosen);
    for (const d of descendants(t, chosen)) processed.add(d);
  }
  return selected;
}

function selectClusters(t: CondensedTree, o: Required<HdbscanOptions>): Set<number> {
  const count = t.clusterParent.length;
  const hasSplits = count > 1;
  if (o.clusterSelectionMethod === 'leaf') {
    const leaves = [...Array(count).keys()].filter(
      (c) => c > 0 && (t.clusterChildren[c] as number[]).length === 0,
    );
    return o.clusterSelectionEpsilon > 0
      ? epsilonSearch(t, leaves, o.clusterSelectionEpsilon, o.allowSingleCluster)
      : new Set(leaves);
  }
  // Excess of mass: bottom-up (children have higher numbers), keep a cluster unless its
  // children together are more stable; keeping it deselects everything below it.
  const stability = stabilities(t);
  const isCluster = new Array<boolean>(count).fill(true);
  if (!o.allowSingleCluster) isCluster[0] = false;
  for (let c = count - 1; c >= (o.allowSingleCluster ? 0 : 1); c--) {
    const children = t.clusterChildren[c] as number[];
    const subtree = children.reduce((s, child) => s + (stability[child] as number), 0);
    if (subtree > (stability[c] as number)) {
      isCluster[c] = false;
      stability[c] = subtree;
    } else {
      for (const d of descendants(t, c)) isCluster[d] = false;
    }
  }
  const eom = [...Array(count).keys()].filter((c) => isCluster[c]);
  if (o.clusterSelectionEpsilon > 0 && hasSplits) {
    if (eom.length === 1 && eom[0] === 0) return new Set(o.allowSingleCluster ? eom : []);
    return epsilonSearch(t, eom, o.clusterSelectionEpsilon, o.allowSingleCluster);
  }
  return new Set(eom);
}

/** Highest finite λ in each cluster's own rows (points leaving it, children born from it). */
function ownDeaths(t: CondensedTree): number[] {
  const deaths = t.clusterBirth.map(() => 0);
  const raise = (c: number, lambda: number) => {
    if (Number.isFinite(lambda) && lambda > (deaths[c] as number)) deaths[c] = lambda;
  };
  t.pointCluster.forEach((c, p) => raise(c, t.pointLambda[p] as number));
  for (let c = 1; c < t.clusterParent.length; c++)
    raise(t.clusterParent[c] as number, t.clusterBirth[c] as number);
  return deaths;
}

function resolveOptions(options: HdbscanOptions): Required<HdbscanOptions> {
  const minClusterSize = options.minClusterSize ?? 5;
  const o: Required<HdbscanOptions> = {
    minClusterSize,
    minSamples: options.minSamples ?? minClusterSize,
    metric: options.metric ?? 'cosine',
    clusterSelectionMethod: options.clusterSelectionMethod ?? 'eom',
    allowSingleCluster: options.allowSingleCluster ?? false,
    clusterSelectionEpsilon: options.clusterSelectionEpsilon ?? 0,
  };
  if (!Number.isInteger(o.minClusterSize) || o.minClusterSize < 2) {
    throw new Error(`minClusterSize must be an integer >= 2, got ${o.minClusterSize}`);
  }
  if (!Number.isInteger(o.minSamples) || o.minSamples < 1)
    throw new Error(`minSamples must be an integer >= 1, got ${o.minSamples}`);
  if (!(o.clusterSelectionEpsilon >= 0))
    throw new Error(`clusterSelectionEpsilon must be >= 0, got ${o.clusterSelectionEpsilon}`);
  return o;
}

/**
 * Clusters `data` (points, or a distance matrix with metric 'precomputed'). With fewer points
 * than minClusterSize everything is noise. minSamples larger than the data set counts up to
 * the farthest point. Two deliberate departures from scikit-learn: merges at equal distances
 * are one merge (see `condense`), and where identical points make λ infinite, membership
 * strengths and outlier scores are measured against the densest finite λ, so one group of
 * duplicates does not make every other member of its cluster look like an outlier.
 */
export function hdbscan(data: readonly (readonly number[])[], options: HdbscanOptions = {}): HdbscanResult {
  const o = resolveOptions(options);
  const n = data.length;
  const d = distanceMatrix(data, o.metric);
  const core = coreDistances(d, n, o.minSamples);
  const t = condense(singleLinkage(primPath(d, core, n), n), n, o.minClusterSize);
  const selected = n >= o.minClusterSize ? selectClusters(t, o) : new Set<number>();

  // A point belongs to the nearest selected cluster at or above the one it falls out of.
  const clusterOf = new Int32Array(n).fill(NOISE);
  const rootMax = Math.max(
    0,
    ...[...t.pointCluster].flatMap((c, p) => (c === 0 ? [t.pointLambda[p] as number] : [])),
    ...(t.clusterChildren[0] as number[]).map((c) => t.clusterBirth[c] as number),
  );
  for (let p = 0; p < n; p++) {
    let c = t.pointCluster[p] as number;
    while (c > 0 && !selected.has(c)) c = t.clusterParent[c] as number;
    if (c > 0) clusterOf[p] = c;
    else if (c === 0 && selected.has(0) && selected.size === 1) {
      // scikit-learn's rule for a single root cluster: only points that stay until the root's
      // last split or departure belong to it (or, with ε, those denser than 1/ε).
      const lambda = t.pointLambda[p] as number;
      const threshold = o.clusterSelectionEpsilon > 0 ? 1 / o.clusterSelectionEpsilon : rootMax;
      if (lambda >= threshold) clusterOf[p] = 0;
    }
  }

  // Renumber clusters by their lowest member, so labels do not depend on tree numbering.
  const order = new Map<number, number>();
  for (const c of clusterOf) if (c !== NOISE && !order.has(c)) order.set(c, order.size);
  const labels = [...clusterOf].map((c) => (c === NOISE ? NOISE : (order.get(c) as number)));

  const own = ownDeaths(t);
  const probabilities = [...clusterOf].map((c, p) => {
    if (c === NOISE) return 0;
    const lambda = t.pointLambda[p] as number;
    const max = own[c] as number;
    return max === 0 || !Number.isFinite(lambda) ? 1 : Math.min(lambda, max) / max;
  });

  // GLOSH: compare each point with the densest point anywhere below the cluster it leaves.
  const deepest = [...own];
  for (let c = t.clusterParent.length - 1; c > 0; c--) {
    const parent = t.clusterParent[c] as number;
    deepest[parent] = Math.max(deepest[parent] as number, deepest[c] as number);
  }
  const outlierScores = [...t.pointCluster].map((c, p) => {
    const lambda = t.pointLambda[p] as number;
    const max = deepest[c] as number;
    return max === 0 || !Number.isFinite(lambda) ? 0 : (max - lambda) / max;
  });

  const nearestCluster: (number | null)[] = labels.map(() => null);
  const nearestClusterDistance: (number | null)[] = labels.map(() => null);
  if (order.size > 0) {
    for (let p = 0; p < n; p++) {
      if (labels[p] !== NOISE) continue;
      let best = -1;
      let bestDistance = Infinity;
      for (let q = 0; q < n; q++) {
        if (labels[q] === NOISE) continue;
        const reach = Math.max(core[p] as number, core[q] as number, d[p * n + q] as number);
        if (best === -1 || reach < bestDistance) [best, bestDistance] = [q, reach];
      }
      nearestCluster[p] = labels[best] as number;
      nearestClusterDistance[p] = bestDistance;
    }
  }
  return { labels, probabilities, outlierScores, nearestCluster, nearestClusterDistance };
}
