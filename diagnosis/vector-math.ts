/**
 * The few dense-vector helpers the clustering modules share. Plain `number[]` in and out, so
 * vectors stay JSON-serialisable for activity payloads and workflow history.
 */

function sameLength(a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length) throw new Error(`Vectors of different dimensions: ${a.length} and ${b.length}.`);
}

export function dot(a: readonly number[], b: readonly number[]): number {
  sameLength(a, b);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

export function norm(a: readonly number[]): number {
  return Math.sqrt(dot(a, a));
}

/** A unit-length copy; the zero vector stays zero (it has no direction to keep). */
export function l2normalize(a: readonly number[]): number[] {
  const length = norm(a);
  return length === 0 ? a.map(() => 0) : a.map((x) => x / length);
}

/** Cosine of the angle between two vectors; 0 when either is the zero vector. */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  const denominator = norm(a) * norm(b);
  return denominator === 0 ? 0 : dot(a, b) / denominator;
}

/** The mean direction of a set of vectors: their mean, L2-normalised. */
export function centroid(vectors: readonly (readonly number[])[]): number[] {
  const first = vectors[0];
  if (first === undefined) throw new Error('The centroid of no vectors is undefined.');
  const sum = new Array<number>(first.length).fill(0);
  for (const v of vectors) {
    sameLength(first, v);
    for (let i = 0; i < v.length; i++) sum[i] = (sum[i] as number) + (v[i] as number);
  }
  return l2normalize(sum.map((x) => x / vectors.length));
}
