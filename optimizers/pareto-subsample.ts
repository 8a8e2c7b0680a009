import { seedPrng } from './prng.js';
import { shuffled } from './prompt-search.js';
import { stableHash53 } from './stable-hash.js';

/**
 * GEPA's Pareto set (upstream's valset) as a fixed-size subsample of the train split, so
 * its cost — the baseline's evaluation and every accepted child's — stops growing with the
 * data. Seeded on its own stream (not the optimizer's), so the same seed and train split
 * always give the same set. Stratified when strata are known (the dataset's failure
 * clusters): every stratum keeps at least one example when the size allows, the rest is
 * shared in proportion to the strata's sizes (largest remainder), so a failure mode cannot
 * drop out of the set that decides which programs survive.
 */
export function paretoSubsample(
  trainIds: readonly string[],
  size: number | null,
  seed: number,
  strata?: Readonly<Record<string, string>>,
): string[] {
  const sorted = [...new Set(trainIds)].sort();
  if (size === null || size >= sorted.length) return sorted;
  const prng = seedPrng(stableHash53(`pareto|${seed}`, 0));
  const groups = new Map<string, string[]>();
  for (const id of sorted) {
    const key = strata?.[id] ?? '';
    groups.set(key, [...(groups.get(key) ?? []), id]);
  }
  const keys = [...groups.keys()].sort();
  const quota = allocate(
    keys.map((k) => groups.get(k)!.length),
    size,
  );
  return keys.flatMap((k, i) => shuffled(prng, groups.get(k)!).slice(0, quota[i])).sort();
}

/**
 * Splits `size` over groups of the given sizes: one each first (as far as the size goes,
 * largest groups first), then the remainder in proportion by largest remainder.
 */
export function allocate(sizes: readonly number[], size: number): number[] {
  const total = sizes.reduce((s, x) => s + x, 0);
  const n = Math.min(size, total);
  const quota = sizes.map(() => 0);
  const bySize = sizes.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]! || a - b);
  for (const i of bySize.slice(0, n)) quota[i] = 1;
  let left = n - quota.reduce((s, x) => s + x, 0);
  if (left <= 0) return quota;
  const room = sizes.map((s, i) => s - quota[i]!);
  const roomTotal = room.reduce((s, x) => s + x, 0);
  const exact = room.map((r) => (r * left) / roomTotal);
  exact.forEach((x, i) => (quota[i]! += Math.floor(x)));
  left = n - quota.reduce((s, x) => s + x, 0);
  const order = exact
    .map((x, i) => ({ i, frac: x - Math.floor(x) }))
    .filter(({ i }) => quota[i]! < sizes[i]!)
    .sort((a, b) => b.frac - a.frac || sizes[b.i]! - sizes[a.i]! || a.i - b.i);
  for (const { i } of order.slice(0, left)) quota[i]!++;
  return quota;
}
