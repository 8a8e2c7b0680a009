/**
 * GEPA's per-instance Pareto bookkeeping (`gepa_utils.py`): for each validation instance
 * the set of programs with the best score on it; dominated programs are removed; the
 * survivors are sampled in proportion to how many instance fronts they appear in.
 */

/** front[j] = indices of programs whose score on instance j is the maximum. */
export function instanceFronts(scores: readonly (readonly number[])[]): number[][] {
  if (scores.length === 0) return [];
  const nInstances = scores[0]!.length;
  const fronts: number[][] = [];
  for (let j = 0; j < nInstances; j++) {
    let best = -Infinity;
    for (const row of scores) best = Math.max(best, row[j]!);
    fronts.push(scores.map((row, i) => (row[j] === best ? i : -1)).filter((i) => i >= 0));
  }
  return fronts;
}

/**
 * Removes programs that are dominated: a program is dominated when every front it is in
 * also holds another surviving program. Programs are considered from the lowest aggregate
 * score up, as GEPA does, so the weaker of two equivalent programs goes first.
 */
export function nonDominatedPrograms(
  fronts: readonly (readonly number[])[],
  aggregate: readonly number[],
): number[] {
  const inAny = new Set(fronts.flat());
  const order = [...inAny].sort((a, b) => aggregate[a]! - aggregate[b]! || b - a);
  const alive = new Set(inAny);
  let changed = true;
  while (changed) {
    changed = false;
    for (const p of order) {
      if (!alive.has(p)) continue;
      const dominated = fronts
        .filter((f) => f.includes(p))
        .every((f) => f.some((q) => q !== p && alive.has(q)));
      if (dominated) {
        alive.delete(p);
        changed = true;
        break;
      }
    }
  }
  return [...alive].sort((a, b) => a - b);
}

/** How many fronts each surviving program is in: the sampling weights. */
export function frontFrequencies(
  fronts: readonly (readonly number[])[],
  survivors: readonly number[],
): Map<number, number> {
  const freq = new Map<number, number>(survivors.map((p) => [p, 0]));
  for (const f of fronts) for (const p of f) if (freq.has(p)) freq.set(p, freq.get(p)! + 1);
  return freq;
}
