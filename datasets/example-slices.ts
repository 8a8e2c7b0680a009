/**
 * The agent's regression suite: examples from failures a reviewer confirmed, with the step
 * they should have taken. The tag stays with the example in every later version; the dataset
 * policy's staleness never retires it (only `dataset retire` does), and the gate reports and
 * guards it as a slice, so a fixed failure cannot come back unnoticed.
 */
export const REGRESSION_SLICE = 'regression';
/**
 * Examples from traces sampled at random: the slice of the eval split that looks like
 * production traffic, passing and failing in production's proportions.
 */
export const REPRESENTATIVE_SLICE = 'representative';

/**
 * The slice tags of a dataset example, fixed when the example is created so that per-slice
 * gate assertions compare like with like across versions. Sources, all optional: the
 * trace's own attributes (`flywheel.slices`, `slices` or `tags`, a list or a comma-separated
 * string), the failure cluster's taxonomy category (`category:<name>`), flags a reviewer put
 * on the annotation, and the slices an import file names.
 */
export function deriveSlices(sources: {
  attributes?: unknown;
  clusterCategory?: string | null;
  reviewerFlags?: unknown;
  extra?: readonly string[];
  /** A reviewer confirmed the trace failed and named the expected step. */
  confirmedFailure?: boolean;
  /** The trace was sampled at random rather than for feedback or a stratum. */
  sampledAtRandom?: boolean;
}): string[] {
  const out = new Set<string>();
  const attrs =
    sources.attributes && typeof sources.attributes === 'object'
      ? (sources.attributes as Record<string, unknown>)
      : {};
  for (const name of ['flywheel.slices', 'slices', 'tags']) addAll(out, attrs[name]);
  const category = sources.clusterCategory?.trim();
  if (category && category !== 'undiagnosed') out.add(`category:${category}`);
  addAll(out, sources.reviewerFlags);
  addAll(out, sources.extra);
  if (sources.confirmedFailure) out.add(REGRESSION_SLICE);
  if (sources.sampledAtRandom) out.add(REPRESENTATIVE_SLICE);
  return [...out].sort();
}

function addAll(out: Set<string>, value: unknown): void {
  const list = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : [];
  for (const v of list) {
    if (typeof v !== 'string') continue;
    const tag = v.trim();
    if (tag) out.add(tag);
  }
}
