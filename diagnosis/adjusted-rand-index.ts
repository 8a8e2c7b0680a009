/**
 * Agreement of two partitions of the same items, corrected for chance (Hubert & Arabie 1985):
 * 1 for the same partition whatever the label names, about 0 for unrelated ones, negative
 * when they agree less than chance would. It is how the clustering is scored against
 * planted failure modes.
 *
 * Labels are compared with `Map` identity, so `1` and `'1'` are different labels. Noise
 * (-1) is one more label here; a caller who wants each noise point on its own maps them
 * to distinct labels first.
 */
export function adjustedRandIndex(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  if (a.length !== b.length) {
    throw new Error(
      `adjustedRandIndex needs two labelings of the same items, got ${a.length} and ${b.length} labels.`,
    );
  }
  const n = a.length;
  const cells = new Map<string | number, Map<string | number, number>>();
  const rows = new Map<string | number, number>();
  const columns = new Map<string | number, number>();
  for (let i = 0; i < n; i++) {
    const x = a[i] as string | number;
    const y = b[i] as string | number;
    let row = cells.get(x);
    if (!row) cells.set(x, (row = new Map<string | number, number>()));
    row.set(y, (row.get(y) ?? 0) + 1);
    rows.set(x, (rows.get(x) ?? 0) + 1);
    columns.set(y, (columns.get(y) ?? 0) + 1);
  }
  const pairs = (k: number) => (k * (k - 1)) / 2;
  let together = 0; // pairs together in both
  for (const row of cells.values()) for (const count of row.values()) together += pairs(count);
  let togetherA = 0;
  for (const count of rows.values()) togetherA += pairs(count);
  let togetherB = 0;
  for (const count of columns.values()) togetherB += pairs(count);

  // The pair-confusion form (as scikit-learn computes it): with no pair on which the two
  // disagree, the partitions are identical, which also covers the 0/0 of the textbook
  // formula (both one cluster, both all singletons, fewer than two items).
  const onlyA = togetherA - together;
  const onlyB = togetherB - together;
  if (onlyA === 0 && onlyB === 0) return 1;
  const apartBoth = pairs(n) - together - onlyA - onlyB;
  return (
    (2 * (together * apartBoth - onlyA * onlyB)) /
    ((together + onlyA) * (onlyA + apartBoth) + (together + onlyB) * (onlyB + apartBoth))
  );
}
