import { dot } from '../../diagnosis/vector-math.js';

/**
 * Input prototypes: a handful of reference inputs that spread over the reference window's
 * embedding space, so that an input distribution becomes a histogram (each trace counted at
 * its nearest prototype) and two windows can be compared with a chi-square test. Chosen by
 * farthest-point traversal from the earliest reference input: deterministic (no PRNG), and
 * it reaches the rare corners of the space, where a new kind of request shows first.
 *
 * Vectors are compared by dot product, so they should be L2-normalised (embedding models and
 * the local TF-IDF embedder return them so).
 */
export function choosePrototypes(vectors: readonly (readonly number[])[], count: number): number[][] {
  const first = vectors[0];
  if (first === undefined || count < 1) return [];
  const prototypes: number[][] = [[...first]];
  // Distance of each vector to its nearest prototype so far, as 1 − cosine.
  const nearest = vectors.map((v) => 1 - dot(v, first));
  while (prototypes.length < count) {
    let far = -1;
    let farthest = 1e-9;
    for (let i = 0; i < vectors.length; i++) {
      if ((nearest[i] as number) > farthest) [farthest, far] = [nearest[i] as number, i];
    }
    if (far < 0) break; // every vector coincides with a prototype already
    const chosen = vectors[far] as readonly number[];
    prototypes.push([...chosen]);
    for (let i = 0; i < vectors.length; i++) {
      nearest[i] = Math.min(nearest[i] as number, 1 - dot(vectors[i] as readonly number[], chosen));
    }
  }
  return prototypes;
}

/** The index of the prototype nearest to `vector` (the first on ties). */
export function nearestPrototype(
  prototypes: readonly (readonly number[])[],
  vector: readonly number[],
): number {
  let best = 0;
  let bestSimilarity = -Infinity;
  for (let i = 0; i < prototypes.length; i++) {
    const s = dot(prototypes[i] as readonly number[], vector);
    if (s > bestSimilarity) [bestSimilarity, best] = [s, i];
  }
  return best;
}
