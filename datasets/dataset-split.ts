import { unitInterval } from '../optimizers/stable-hash.js';

export type Split = 'train' | 'eval' | 'holdout';
export const SPLITS: readonly Split[] = ['train', 'eval', 'holdout'];

export interface SplitFractions {
  evalFraction: number;
  holdoutFraction: number;
}

/**
 * Deterministic split of one key by its hash: below `holdoutFraction` holdout, then eval,
 * else train. Used alone for keys without a group, and as the tie-breaker of singletons.
 */
export function assignSplit(key: string, seed: number, evalFraction = 0.4, holdoutFraction = 0): Split {
  const u = unitInterval(`split:${key}`, seed);
  if (u < holdoutFraction) return 'holdout';
  return u < holdoutFraction + evalFraction ? 'eval' : 'train';
}

/**
 * How many of `n` examples each split should hold: largest remainder on the fractions, then
 * every split with a positive fraction gets at least one member when there are enough
 * members to go round (taken from the largest split), so a cluster of three is seen by
 * train, eval and holdout alike.
 */
export function splitTargets(n: number, f: SplitFractions): Record<Split, number> {
  const exact = SPLITS.map((s) => ({ s, v: n * fractionOf(s, f) }));
  const counts: Record<Split, number> = { train: 0, eval: 0, holdout: 0 };
  for (const { s, v } of exact) counts[s] = Math.floor(v);
  let left = n - SPLITS.reduce((a, s) => a + counts[s], 0);
  // Ties go to train, then eval, then holdout: the order of SPLITS.
  const byRemainder = [...exact].sort((a, b) => b.v - Math.floor(b.v) - (a.v - Math.floor(a.v)));
  for (const { s } of byRemainder) {
    if (left <= 0) break;
    counts[s] += 1;
    left -= 1;
  }
  const wanted = SPLITS.filter((s) => fractionOf(s, f) > 0);
  if (n >= wanted.length) {
    for (const s of wanted) {
      if (counts[s] > 0) continue;
      const donor = [...SPLITS].sort((a, b) => counts[b] - counts[a])[0]!;
      counts[donor] -= 1;
      counts[s] += 1;
    }
  }
  return counts;
}

function fractionOf(s: Split, f: SplitFractions): number {
  if (s === 'eval') return f.evalFraction;
  return s === 'holdout' ? f.holdoutFraction : 1 - f.evalFraction - f.holdoutFraction;
}

export interface SplitItem {
  key: string;
  /** The stratum: a failure cluster's stable id, or null for examples without one. */
  group: string | null;
}

/**
 * Stratified, sticky split assignment. Within each group (cluster), members are ordered by
 * the hash of their key and the new ones fill the splits the group is short of, so every
 * cluster large enough is represented in train, eval and holdout in the configured
 * proportions. A key already assigned (`sticky`, from earlier versions) keeps its split,
 * so an example never moves into a gating split after the optimizer may have seen it. A
 * group of one has no proportions to keep: its member is split by its own hash, which
 * keeps the proportions over many singletons.
 */
export function assignSplits(
  items: readonly SplitItem[],
  options: SplitFractions & { seed: number; sticky?: ReadonlyMap<string, Split> },
): Map<string, Split> {
  const sticky = options.sticky ?? new Map<string, Split>();
  const groups = new Map<string, SplitItem[]>();
  for (const item of items) {
    const g = item.group ?? '';
    groups.set(g, [...(groups.get(g) ?? []), item]);
  }
  const out = new Map<string, Split>();
  for (const [, members] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const unique = [...new Map(members.map((m) => [m.key, m])).values()];
    const counts: Record<Split, number> = { train: 0, eval: 0, holdout: 0 };
    const fresh: SplitItem[] = [];
    for (const m of unique) {
      const s = sticky.get(m.key);
      if (s) {
        out.set(m.key, s);
        counts[s] += 1;
      } else fresh.push(m);
    }
    if (fresh.length === 0) continue;
    if (unique.length === 1) {
      const only = fresh[0]!;
      out.set(only.key, assignSplit(only.key, options.seed, options.evalFraction, options.holdoutFraction));
      continue;
    }
    const targets = splitTargets(unique.length, options);
    const open = [...SPLITS].reverse().filter((s) => fractionOf(s, options) > 0);
    const order = fresh
      .map((m) => ({ m, h: unitInterval(`split:${m.key}`, options.seed) }))
      .sort((a, b) => a.h - b.h || a.m.key.localeCompare(b.m.key));
    for (const { m } of order) {
      // The split furthest below its target; ties in the order holdout, eval, train, so
      // small groups fill the scarce gating splits first.
      const s = open.reduce((best, c) => (targets[c] - counts[c] > targets[best] - counts[best] ? c : best));
      out.set(m.key, s);
      counts[s] += 1;
    }
  }
  return out;
}
