import type { Split } from './dataset-split.js';
import {
  defaultBands,
  estimateJaccard,
  exactKey,
  MINHASH_SIZE,
  minHashSignature,
} from '../traces/near-duplicates.js';
import { stableHash53 } from '../optimizers/stable-hash.js';

/**
 * Keeps the gating splits honest. A gate score means something only on cases the
 * optimizer never saw, so (a) an eval or holdout example that an earlier optimization run
 * of the agent trained on (same source trace, or the same content) moves to train, and (b)
 * an eval or holdout example whose input nearly duplicates a train example moves to train
 * too (the optimizer saw its twin); an eval/holdout pair of near-duplicates keeps the pair
 * on one side (holdout joins eval), so holdout stays independent of what eval showed.
 */

export interface DecontaminationInput {
  key: string;
  split: Split;
  /** The input as text (see `exampleText`). */
  text: string;
  contentHash: string;
}

export interface OptimizerUse {
  /** example key → runs that trained on it. */
  byKey: ReadonlyMap<string, readonly string[]>;
  /** content hash → runs that trained on an example with that exact content. */
  byContent: ReadonlyMap<string, readonly string[]>;
  runs: number;
}

export interface GatingMove {
  key: string;
  from: Split;
  to: Split;
  reason: 'used_by_optimizer' | 'near_duplicate';
  /** The runs that trained on it, or the near-duplicate's key. */
  detail: string;
}

export interface NearDuplicatePair {
  a: string;
  aSplit: Split;
  b: string;
  bSplit: Split;
  similarity: number;
  /** The member that left its split, if any. */
  moved: string | null;
}

export interface DecontaminationReport {
  threshold: number;
  runsChecked: number;
  movedFromGating: GatingMove[];
  nearDuplicates: NearDuplicatePair[];
}

/** The text near-duplicates are judged on: the conversation without the system prompt (the optimized part). */
export function exampleText(input: unknown): string {
  if (typeof input === 'string') return input;
  const messages = (input as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return JSON.stringify(input ?? '');
  return messages
    .filter((m: { role?: unknown }) => m?.role !== 'system')
    .map((m: { content?: unknown }) => (typeof m?.content === 'string' ? m.content : ''))
    .join('\n');
}

interface Edge {
  a: number;
  b: number;
  similarity: number;
}

/** Pairs at or above the threshold: exact twins as a star around the first, others by LSH banding. */
function similarPairs(texts: readonly string[], threshold: number, seed: number): Edge[] {
  const edges: Edge[] = [];
  const firstOf = new Map<string, number>();
  const reps: number[] = [];
  texts.forEach((t, i) => {
    const k = exactKey(t);
    const first = firstOf.get(k);
    if (first === undefined) {
      firstOf.set(k, i);
      reps.push(i);
    } else edges.push({ a: first, b: i, similarity: 1 });
  });
  const bands = defaultBands(threshold);
  const rows = MINHASH_SIZE / bands;
  const sigs = new Map(reps.map((i) => [i, minHashSignature(texts[i]!, seed)]));
  const buckets = new Map<string, number[]>();
  for (const i of reps) {
    const sig = sigs.get(i)!;
    for (let b = 0; b < bands; b++) {
      const key = `${b}:${stableHash53(Array.from(sig.subarray(b * rows, (b + 1) * rows)).join(','))}`;
      buckets.set(key, [...(buckets.get(key) ?? []), i]);
    }
  }
  const seen = new Set<string>();
  for (const members of buckets.values()) {
    for (let x = 0; x < members.length; x++) {
      for (let y = x + 1; y < members.length; y++) {
        const a = members[x]!;
        const b = members[y]!;
        const id = `${a}:${b}`;
        if (seen.has(id)) continue;
        seen.add(id);
        const similarity = estimateJaccard(sigs.get(a)!, sigs.get(b)!);
        if (similarity >= threshold) edges.push({ a, b, similarity });
      }
    }
  }
  return edges.sort((p, q) => q.similarity - p.similarity || p.a - q.a || p.b - q.b);
}

/**
 * Decides the final split of each example of a new version and reports why any left a
 * gating split. Pure: the caller supplies what earlier runs trained on.
 */
export function decontaminate(
  examples: readonly DecontaminationInput[],
  used: OptimizerUse,
  options: { threshold: number; seed?: number },
): { splits: Map<string, Split>; report: DecontaminationReport } {
  const sorted = [...examples].sort((a, b) => a.key.localeCompare(b.key));
  const splits = new Map(sorted.map((e) => [e.key, e.split]));
  const original = new Map(splits);
  const movedFromGating: GatingMove[] = [];
  for (const e of sorted) {
    if (e.split === 'train') continue;
    const runs = [
      ...new Set([...(used.byKey.get(e.key) ?? []), ...(used.byContent.get(e.contentHash) ?? [])]),
    ];
    if (runs.length === 0) continue;
    splits.set(e.key, 'train');
    movedFromGating.push({
      key: e.key,
      from: e.split,
      to: 'train',
      reason: 'used_by_optimizer',
      detail: runs.sort().join(','),
    });
  }

  const edges = similarPairs(
    sorted.map((e) => e.text),
    options.threshold,
    options.seed ?? 0,
  );
  const nearDuplicates: NearDuplicatePair[] = [];
  // Moves only go towards train (holdout → eval → train), so this reaches a fixpoint.
  for (let changed = true; changed;) {
    changed = false;
    for (const edge of edges) {
      const a = sorted[edge.a]!.key;
      const b = sorted[edge.b]!.key;
      const sa = splits.get(a)!;
      const sb = splits.get(b)!;
      if (sa === sb) continue;
      let moved: string;
      let to: Split;
      if (sa === 'train' || sb === 'train') {
        moved = sa === 'train' ? b : a;
        to = 'train';
      } else {
        moved = sa === 'holdout' ? a : b;
        to = 'eval';
      }
      splits.set(moved, to);
      nearDuplicates.push({ a, aSplit: sa, b, bSplit: sb, similarity: edge.similarity, moved });
      if (to === 'train') {
        const from = original.get(moved)!;
        movedFromGating.push({ key: moved, from, to, reason: 'near_duplicate', detail: moved === a ? b : a });
      }
      changed = true;
    }
  }
  return {
    splits,
    report: { threshold: options.threshold, runsChecked: used.runs, movedFromGating, nearDuplicates },
  };
}
