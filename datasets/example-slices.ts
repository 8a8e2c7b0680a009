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
