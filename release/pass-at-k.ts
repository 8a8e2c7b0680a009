/**
 * pass^k (τ-bench's reliability metric): the share of examples on which *every* one of k
 * independent runs passed. Unlike pass@1 (the average run), it falls fast when a metric is
 * noisy per example, which is what a gate on a sampled judge has to guard against.
 */
export function passHatK(runs: readonly (readonly number[])[], passAt: number): number | null {
  const measured = runs.filter((r) => r.length > 0);
  if (measured.length === 0) return null;
  return measured.filter((r) => r.every((s) => s >= passAt)).length / measured.length;
}

/** pass@1 over the same runs: the share of all runs that passed. */
export function passAtOne(runs: readonly (readonly number[])[], passAt: number): number | null {
  const all = runs.flat();
  if (all.length === 0) return null;
  return all.filter((s) => s >= passAt).length / all.length;
}
