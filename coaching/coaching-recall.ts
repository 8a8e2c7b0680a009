import type { RecallMessage } from '../schemas/coaching.js';
import { vectorScan, type VectorScan } from './vector-scan.js';

export { dotProduct } from './vector-scan.js';

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
  /** The rows, in the scan's memory (`scan.vectors`). */
  vectors: Float32Array;
  /** Computes a query's similarity with the rows (WebAssembly SIMD where it can). */
  scan: VectorScan;
  candidates: readonly RecallCandidate[];
  /** candidates[row].threshold, packed for the scan. */
  thresholds: Float64Array;
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
  /** Which matrix the row is of, when a recall scans more than one (default 0). */
  source: number;
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
  const scan = vectorScan(entries.length, dimensions);
  const vectors = scan.vectors;
  entries.forEach((e, row) => {
    if (e.vector.length !== dimensions)
      throw new Error(`situation ${row} has ${e.vector.length} dimensions, the index ${dimensions}`);
    vectors.set(normalised(e.vector), row * dimensions);
  });
  return {
    dimensions,
    vectors,
    scan,
    candidates: entries.map((e, row) => ({ row, threshold: e.threshold, tokens: e.tokens })),
    thresholds: Float64Array.from(entries, (e) => e.threshold),
  };
}

/**
 * The memories whose threshold the query reaches, unsorted. `rows` limits the scan to some
 * memories (the lists an IVF index probes); default: all; `source` tags the hits. The query
 * must be unit length. The similarities are `dotProduct`'s, to the last bit, whichever
 * kernel the matrix's scan runs.
 */
export function passingHits(
  matrix: SituationMatrix,
  q: Float32Array,
  rows?: ArrayLike<number>,
  source = 0,
): RecallHit[] {
  const { dimensions: d, thresholds, candidates } = matrix;
  if (q.length !== d) return [];
  const similarities = matrix.scan.dots(q, rows);
  const passing: RecallHit[] = [];
  for (let r = 0; r < similarities.length; r++) {
    const row = rows ? rows[r]! : r;
    const similarity = similarities[r]!;
    if (similarity >= thresholds[row]!)
      passing.push({ row, similarity, tokens: candidates[row]!.tokens, source });
  }
  return passing;
}

/**
 * The first `m` of `items` in `before` order (a total order), as a full sort would put them:
 * one pass keeping a sorted window of m, so the cost grows with m, not with every item sorted.
 */
export function firstInOrder<T>(items: readonly T[], m: number, before: (a: T, b: T) => number): T[] {
  const top: T[] = [];
  if (m < 1) return top;
  for (const item of items) {
    if (top.length === m && before(item, top[m - 1]!) >= 0) continue;
    let at = top.length === m ? m - 1 : top.length;
    while (at > 0 && before(item, top[at - 1]!) < 0) {
      top[at] = top[at - 1]!;
      at--;
    }
    top[at] = item;
    if (top.length > m) top.length = m;
  }
  return top;
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
  const before = (a: H, b: H) => b.similarity - a.similarity || order(a, b);
  const budget = limits.maxTokens - (limits.reservedTokens ?? 0);
  const pick = (ranked: readonly H[]) => {
    const chosen: H[] = [];
    let spent = 0;
    for (const hit of ranked) {
      if (chosen.length === limits.k) break;
      if (spent + hit.tokens > budget) continue;
      chosen.push(hit);
      spent += hit.tokens;
    }
    return chosen;
  };
  // Usually the k most similar fit the budget: rank a few more than k, not every hit; only
  // when skipped ones leave the window short does the whole list get sorted.
  const window = 4 * limits.k;
  if (passing.length > window) {
    const chosen = pick(firstInOrder(passing, window, before));
    if (chosen.length === limits.k) return chosen;
  }
  return pick([...passing].sort(before));
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
