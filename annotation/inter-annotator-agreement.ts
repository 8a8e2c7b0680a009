/**
 * Inter-annotator agreement: how far reviewers agree beyond chance. Pure functions over
 * (item, rater, value) triples; items with fewer than two values carry no information
 * about agreement and are left out. A statistic whose chance term leaves nothing to
 * explain (every value identical) is undefined and returned as null, not as 1 or 0.
 */

export type NominalValue = string | number | boolean;

export interface Rating<V = NominalValue> {
  item: string;
  rater: string;
  value: V;
}

export interface PairKappa {
  raters: [string, string];
  /** Items both raters labelled. */
  items: number;
  kappa: number | null;
}

export interface AgreementReport {
  level: 'nominal' | 'interval';
  /** Items with at least two values (the ones agreement is measured on). */
  items: number;
  /** Values on those items. */
  ratings: number;
  /** Mean share of agreeing rater pairs per item (nominal only). */
  percentAgreement: number | null;
  /** Cohen's κ per pair of raters who share at least one item (nominal only). */
  cohenKappa: PairKappa[];
  /** Fleiss' κ, with per-item rater counts allowed to differ (nominal only). */
  fleissKappa: number | null;
  krippendorffAlpha: number | null;
}

const key = (v: NominalValue) => `${typeof v}:${String(v)}`;

/** Values per item, for the items with at least two values (the last value per rater counts). */
function unitsOf<V>(ratings: readonly Rating<V>[]): V[][] {
  const byItem = new Map<string, Map<string, V>>();
  for (const r of ratings) {
    const raters = byItem.get(r.item) ?? new Map<string, V>();
    raters.set(r.rater, r.value);
    byItem.set(r.item, raters);
  }
  return [...byItem.values()].map((m) => [...m.values()]).filter((values) => values.length >= 2);
}

function counts(values: readonly NominalValue[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) out.set(key(v), (out.get(key(v)) ?? 0) + 1);
  return out;
}

/** Share of agreeing pairs of an item: Σ n_c(n_c − 1) / (n(n − 1)). */
function itemAgreement(values: readonly NominalValue[]): number {
  const n = values.length;
  let agreeing = 0;
  for (const c of counts(values).values()) agreeing += c * (c - 1);
  return agreeing / (n * (n - 1));
}

/** The mean, over items with ≥ 2 values, of the share of rater pairs that agree. */
export function percentAgreement(ratings: readonly Rating[]): number | null {
  const units = unitsOf(ratings);
  if (units.length === 0) return null;
  return units.reduce((s, u) => s + itemAgreement(u), 0) / units.length;
}

/**
 * Cohen's κ of two raters over the items both labelled: (p_o − p_e) / (1 − p_e), where
 * p_e multiplies each rater's own marginal share of every value.
 */
export function cohensKappa(pairs: readonly (readonly [NominalValue, NominalValue])[]): number | null {
  const n = pairs.length;
  if (n === 0) return null;
  const a = new Map<string, number>();
  const b = new Map<string, number>();
  let observed = 0;
  for (const [x, y] of pairs) {
    if (key(x) === key(y)) observed++;
    a.set(key(x), (a.get(key(x)) ?? 0) + 1);
    b.set(key(y), (b.get(key(y)) ?? 0) + 1);
  }
  const po = observed / n;
  let pe = 0;
  for (const [k, ca] of a) pe += (ca / n) * ((b.get(k) ?? 0) / n);
  if (pe === 1) return null;
  return (po - pe) / (1 - pe);
}

/** Cohen's κ for every pair of raters who labelled at least one item in common. */
export function pairwiseCohensKappa(ratings: readonly Rating[]): PairKappa[] {
  const byRater = new Map<string, Map<string, NominalValue>>();
  for (const r of ratings) {
    const items = byRater.get(r.rater) ?? new Map<string, NominalValue>();
    items.set(r.item, r.value);
    byRater.set(r.rater, items);
  }
  const raters = [...byRater.keys()].sort();
  const out: PairKappa[] = [];
  for (let i = 0; i < raters.length; i++) {
    for (let j = i + 1; j < raters.length; j++) {
      const [ra, rb] = [raters[i]!, raters[j]!];
      const itemsB = byRater.get(rb)!;
      const pairs: [NominalValue, NominalValue][] = [];
      for (const [item, va] of byRater.get(ra)!) {
        if (itemsB.has(item)) pairs.push([va, itemsB.get(item)!]);
      }
      if (pairs.length > 0) out.push({ raters: [ra, rb], items: pairs.length, kappa: cohensKappa(pairs) });
    }
  }
  return out;
}

/**
 * Fleiss' κ: (P̄ − P̄_e) / (1 − P̄_e) with P̄ the mean item agreement and P̄_e the sum of
 * squared pooled value shares. Items may have different numbers of raters (each item's
 * agreement is over its own pairs); with a constant count this is Fleiss' 1971 statistic.
 */
export function fleissKappa(ratings: readonly Rating[]): number | null {
  const units = unitsOf(ratings);
  if (units.length === 0) return null;
  const pooled = counts(units.flat());
  const total = units.reduce((s, u) => s + u.length, 0);
  const pBar = units.reduce((s, u) => s + itemAgreement(u), 0) / units.length;
  let pe = 0;
  for (const c of pooled.values()) pe += (c / total) ** 2;
  if (pe === 1) return null;
  return (pBar - pe) / (1 - pe);
}

/**
 * Krippendorff's α = 1 − (n − 1) · Σ o_ck δ²(c,k) / Σ n_c n_k δ²(c,k), from the coincidence
 * matrix o (each item contributes its ordered value pairs weighted 1 / (m_u − 1)). Missing
 * values are simply absent. Nominal: δ² = 1 for different values; interval: δ² = (c − k)².
 */
export function krippendorffAlpha(ratings: readonly Rating[], level: 'nominal'): number | null;
export function krippendorffAlpha(ratings: readonly Rating<number>[], level: 'interval'): number | null;
export function krippendorffAlpha(ratings: readonly Rating[], level: 'nominal' | 'interval'): number | null {
  const units = unitsOf(ratings);
  // Values by key, and each key's number for the interval metric.
  const numeric = new Map<string, number>();
  const coincidences = new Map<string, Map<string, number>>();
  const add = (c: string, k: string, w: number) => {
    const row = coincidences.get(c) ?? new Map<string, number>();
    row.set(k, (row.get(k) ?? 0) + w);
    coincidences.set(c, row);
  };
  for (const values of units) {
    const m = values.length;
    const unitCounts = counts(values);
    for (const v of values) if (typeof v === 'number') numeric.set(key(v), v);
    for (const [c, nc] of unitCounts) {
      for (const [k, nk] of unitCounts) add(c, k, (c === k ? nc * (nc - 1) : nc * nk) / (m - 1));
    }
  }
  const delta = (c: string, k: string) => {
    if (c === k) return 0;
    if (level === 'nominal') return 1;
    const x = numeric.get(c);
    const y = numeric.get(k);
    if (x === undefined || y === undefined) throw new Error('interval α needs numeric values');
    return (x - y) ** 2;
  };
  const marginals = new Map<string, number>();
  for (const [c, row] of coincidences)
    marginals.set(
      c,
      [...row.values()].reduce((s, x) => s + x, 0),
    );
  const n = [...marginals.values()].reduce((s, x) => s + x, 0);
  if (n <= 1) return null;
  let observed = 0;
  for (const [c, row] of coincidences) for (const [k, o] of row) observed += o * delta(c, k);
  let expected = 0;
  for (const [c, nc] of marginals) for (const [k, nk] of marginals) expected += nc * nk * delta(c, k);
  if (expected === 0) return null;
  return 1 - ((n - 1) * observed) / expected;
}

/** Every statistic that fits the level, for one question (the verdict or one score config). */
export function agreementReport(ratings: readonly Rating[], level: 'nominal'): AgreementReport;
export function agreementReport(ratings: readonly Rating<number>[], level: 'interval'): AgreementReport;
export function agreementReport(ratings: readonly Rating[], level: 'nominal' | 'interval'): AgreementReport {
  const units = unitsOf(ratings);
  const base = {
    level,
    items: units.length,
    ratings: units.reduce((s, u) => s + u.length, 0),
  };
  if (level === 'interval')
    return {
      ...base,
      percentAgreement: null,
      cohenKappa: [],
      fleissKappa: null,
      krippendorffAlpha: krippendorffAlpha(ratings as readonly Rating<number>[], 'interval'),
    };
  return {
    ...base,
    percentAgreement: percentAgreement(ratings),
    cohenKappa: pairwiseCohensKappa(ratings),
    fleissKappa: fleissKappa(ratings),
    krippendorffAlpha: krippendorffAlpha(ratings, 'nominal'),
  };
}
