import type { RecallMessage } from '../schemas/coaching.js';

/**
 * Recall: which coaching memories a conversation is in the situation of. Every memory's
 * situation is a unit vector; the conversation's query text is embedded the same way; a
 * memory is recalled when the cosine similarity reaches its own threshold. Of those, the k
 * most similar are kept while their messages fit the token budget (a memory that does not
 * fit is skipped, a smaller one after it may still fit).
 */

export interface RecallCandidate {
  /** The memory's row in the matrix. */
  row: number;
  threshold: number;
  /** Estimated tokens of its few-shot messages. */
  tokens: number;
}

/** The situations of one agent's memories as one row-major matrix of unit vectors. */
export interface SituationMatrix {
  dimensions: number;
  vectors: Float32Array;
  candidates: readonly RecallCandidate[];
}

export interface RecallLimits {
  k: number;
  /** Tokens the recalled memories may take together, beyond `reservedTokens`. */
  maxTokens: number;
  /** Tokens spent anyway once anything is recalled (the preamble). */
  reservedTokens?: number;
}

export interface RecallHit {
  row: number;
  similarity: number;
  tokens: number;
}

/**
 * The text whose situation is matched: the conversation's last user turn, with the
 * assistant turn before it when there is one (a reply to "shall I cancel it?" is about
 * cancelling). System messages are the agent's own and never part of the situation.
 */
export function situationQuery(messages: readonly RecallMessage[]): string {
  const lastUser = messages.findLastIndex((m) => m.role === 'user' && (m.content ?? '').trim() !== '');
  if (lastUser === -1) {
    const last = messages.findLast((m) => m.role !== 'system' && (m.content ?? '').trim() !== '');
    return last?.content ?? '';
  }
  const before = messages[lastUser - 1];
  const context = before?.role === 'assistant' && before.content ? `${before.content}\n` : '';
  return `${context}${messages[lastUser]!.content ?? ''}`;
}

/** Σ a[base+i]·b[i] over d, four at a time (V8 keeps the four sums in registers). */
export function dotProduct(a: Float32Array, base: number, b: Float32Array, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < d; i += 4) {
    s0 += a[base + i]! * b[i]!;
    s1 += a[base + i + 1]! * b[i + 1]!;
    s2 += a[base + i + 2]! * b[i + 2]!;
    s3 += a[base + i + 3]! * b[i + 3]!;
  }
  for (; i < d; i++) s0 += a[base + i]! * b[i]!;
  return s0 + s1 + s2 + s3;
}

/** A unit-length copy (zero stays zero), so a dot product is the cosine similarity. */
export function normalised(vector: ArrayLike<number>): Float32Array {
  let squares = 0;
  for (let i = 0; i < vector.length; i++) squares += vector[i]! * vector[i]!;
  const length = Math.sqrt(squares);
  const out = new Float32Array(vector.length);
  if (length === 0) return out;
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / length;
  return out;
}

export function buildMatrix(
  dimensions: number,
  entries: readonly { vector: ArrayLike<number>; threshold: number; tokens: number }[],
): SituationMatrix {
  const vectors = new Float32Array(entries.length * dimensions);
  entries.forEach((e, row) => {
    if (e.vector.length !== dimensions)
      throw new Error(`situation ${row} has ${e.vector.length} dimensions, the index ${dimensions}`);
    vectors.set(normalised(e.vector), row * dimensions);
  });
  return {
    dimensions,
    vectors,
    candidates: entries.map((e, row) => ({ row, threshold: e.threshold, tokens: e.tokens })),
  };
}

/**
 * The memories whose threshold the query reaches, unsorted. `rows` limits the scan to some
 * memories (the lists an IVF index probes); default: all. The query must be unit length.
 */
export function passingHits(matrix: SituationMatrix, q: Float32Array, rows?: ArrayLike<number>): RecallHit[] {
  const { dimensions: d, vectors } = matrix;
  if (q.length !== d) return [];
  const passing: RecallHit[] = [];
  const scanned = rows?.length ?? matrix.candidates.length;
  for (let r = 0; r < scanned; r++) {
    const c = matrix.candidates[rows ? rows[r]! : r]!;
    const dot = dotProduct(vectors, c.row * d, q, d);
    if (dot >= c.threshold) passing.push({ row: c.row, similarity: dot, tokens: c.tokens });
  }
  return passing;
}

/**
 * Of the passing hits, the most similar first, within k and the token budget. `order`
 * breaks ties (default: the older memory, the lower row), so the answer does not depend on
 * sort stability.
 */
export function chooseHits<H extends RecallHit>(
  passing: H[],
  limits: RecallLimits,
  order: (a: H, b: H) => number = (a, b) => a.row - b.row,
): H[] {
  if (limits.k < 1) return [];
  passing.sort((a, b) => b.similarity - a.similarity || order(a, b));
  const chosen: H[] = [];
  let spent = 0;
  const budget = limits.maxTokens - (limits.reservedTokens ?? 0);
  for (const hit of passing) {
    if (chosen.length === limits.k) break;
    if (spent + hit.tokens > budget) continue;
    chosen.push(hit);
    spent += hit.tokens;
  }
  return chosen;
}

/**
 * The memories the query recalls, most similar first, within k and the token budget.
 * `rows` limits the scan to some memories (the lists an IVF index probes); default: all.
 */
export function recall(
  matrix: SituationMatrix,
  query: ArrayLike<number>,
  limits: RecallLimits,
  rows?: ArrayLike<number>,
): RecallHit[] {
  if (query.length !== matrix.dimensions || limits.k < 1) return [];
  return chooseHits(passingHits(matrix, normalised(query), rows), limits);
}
