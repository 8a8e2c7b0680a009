import type { SamplingPolicy } from '../schemas/sampling-policy.js';
import { DEFAULT_NEAR_DUPLICATE_THRESHOLD, exactKey, NearDuplicateIndex } from './near-duplicates.js';

/** One trace of the window that some stratum or the random rate wants. */
export interface SampleCandidate {
  id: string;
  userId: string | null;
  /** The trace's seeded position in [0, 1): random traffic is taken lowest first. */
  u: number;
  /** Always-sampled strata it matched, in the policy's priority order. */
  strata: readonly string[];
  /** Whether it falls inside the random rate. */
  random: boolean;
}

export interface SampledTrace {
  traceId: string;
  /** The stratum it was taken for (`random` for the baseline share). */
  reason: string;
  /** Every reason that applies: all matched strata, and `random` when inside the rate. */
  reasons: string[];
}

export interface StratumReport {
  available: number;
  quota: number;
  picked: number;
}

export interface SampleSelection {
  picked: SampledTrace[];
  strata: Record<string, StratumReport>;
  skipped: { exactDuplicate: number; nearDuplicate: number; userCap: number };
}

/**
 * One group's candidates. A caller that reads candidates from storage may pass only a
 * prefix of the group (lowest `u` first); the selection asks for more when its walk
 * reaches the end of an incomplete prefix.
 */
export interface CandidateGroup {
  /** Lowest `u` first (ties by id), as `byPosition` sorts them. */
  candidates: SampleCandidate[];
  /**
   * Traces the group holds in the window. Any size above `maxSample` yields the same
   * quotas, so a caller may count only up to `maxSample + 1`.
   */
  size: number;
  /** Whether `candidates` is the whole group. */
  complete: boolean;
}

export type SelectionResult =
  | { done: true; selection: SampleSelection }
  /** Load the texts of `needText` and the next candidates of the groups in `needMore`, then call again. */
  | { done: false; needText: string[]; needMore: string[] };

export const RANDOM = 'random';

/** The names of the always-sampled strata in priority order. */
export function strataOrder(policy: SamplingPolicy): string[] {
  return [
    ...(policy.strata.negativeFeedback ? ['negative_feedback'] : []),
    ...(policy.strata.escalations ? ['escalation'] : []),
    ...(policy.strata.errors ? ['error'] : []),
    ...policy.strata.custom.map((s) => s.name),
  ];
}

/**
 * Splits `total` across groups: proportional to size (largest remainder) or equal, never
 * more than a group has, with what a small group cannot use flowing to the others.
 */
export function allocate(
  sizes: ReadonlyMap<string, number>,
  total: number,
  mode: 'proportional' | 'equal',
): Map<string, number> {
  const quota = new Map([...sizes.keys()].map((k) => [k, 0]));
  let remaining = total;
  let open = [...sizes.keys()].filter((k) => (sizes.get(k) ?? 0) > 0);
  while (remaining > 0 && open.length > 0) {
    const weight = (k: string) => (mode === 'equal' ? 1 : (sizes.get(k) ?? 0) - (quota.get(k) ?? 0));
    const sum = open.reduce((s, k) => s + weight(k), 0);
    const shares = open.map((k) => {
      const exact = (remaining * weight(k)) / sum;
      return { k, floor: Math.floor(exact), frac: exact - Math.floor(exact) };
    });
    let handed = shares.reduce((s, x) => s + x.floor, 0);
    shares.sort((a, b) => b.frac - a.frac || a.k.localeCompare(b.k));
    for (const s of shares) {
      if (handed >= remaining) break;
      s.floor += 1;
      handed += 1;
    }
    for (const { k, floor } of shares) {
      const room = (sizes.get(k) ?? 0) - (quota.get(k) ?? 0);
      const give = Math.min(room, floor);
      quota.set(k, (quota.get(k) ?? 0) + give);
      remaining -= give;
    }
    open = open.filter((k) => (quota.get(k) ?? 0) < (sizes.get(k) ?? 0));
  }
  return quota;
}

/** The group names in walk order: the strata by priority, then random. */
export function groupOrder(policy: SamplingPolicy): string[] {
  return [...strataOrder(policy), RANDOM];
}

/** Lowest `u` first, ties by id: the order every group is walked in. */
export function byPosition(a: SampleCandidate, b: SampleCandidate): number {
  return a.u - b.u || a.id.localeCompare(b.id);
}

/**
 * The group a candidate is walked in: its first stratum in priority order, else random
 * when inside the rate; undefined when no group wants it.
 */
export function groupOf(candidate: SampleCandidate, policy: SamplingPolicy): string | undefined {
  const strata = strataOrder(policy);
  return candidate.strata.find((s) => strata.includes(s)) ?? (candidate.random ? RANDOM : undefined);
}

/** Every candidate of the window, grouped and sorted; each group complete. */
export function groupCandidates(
  candidates: readonly SampleCandidate[],
  policy: SamplingPolicy,
): Map<string, CandidateGroup> {
  const order = groupOrder(policy);
  const lists = new Map<string, SampleCandidate[]>(order.map((k) => [k, []]));
  const strata = new Set(strataOrder(policy));
  for (const c of candidates) {
    const group = c.strata.find((s) => strata.has(s)) ?? (c.random ? RANDOM : undefined);
    if (group) lists.get(group)?.push(c);
  }
  return new Map(
    [...lists].map(([k, list]) => [
      k,
      { candidates: list.sort(byPosition), size: list.length, complete: true },
    ]),
  );
}

/**
 * Chooses the sample from the window's candidates. Deterministic: groups are walked in
 * priority order, each lowest-`u` first. Deduplication needs each walked trace's
 * normalized input text; when `textOf` does not have one yet, the result names the traces
 * whose text the caller should load before calling again (the walk is replayed from the
 * start, so the outcome does not depend on how the texts were batched).
 */
export function selectSample(
  candidates: readonly SampleCandidate[],
  policy: SamplingPolicy,
  textOf: (id: string) => string | undefined,
): SelectionResult {
  return selectSampleFromGroups(groupCandidates(candidates, policy), policy, textOf);
}

/**
 * `selectSample` over groups that may hold only a prefix of their candidates: the
 * outcome is the same as with every candidate loaded, as long as the caller extends the
 * groups named in `needMore` (a longer prefix of the same order) and calls again.
 */
export function selectSampleFromGroups(
  groups: ReadonlyMap<string, CandidateGroup>,
  policy: SamplingPolicy,
  textOf: (id: string) => string | undefined,
): SelectionResult {
  const order = groupOrder(policy);
  const sizes = new Map(order.map((k) => [k, groups.get(k)?.size ?? 0]));
  const quotas = groupQuotas(sizes, policy);
  const strata = new Set(strataOrder(policy));

  const needsText = policy.dedup.exact || policy.dedup.near;
  const near = policy.dedup.near
    ? new NearDuplicateIndex({ threshold: policy.dedup.threshold ?? DEFAULT_NEAR_DUPLICATE_THRESHOLD })
    : null;
  const exact = new Set<string>();
  const perUser = new Map<string, number>();
  const skipped = { exactDuplicate: 0, nearDuplicate: 0, userCap: 0 };
  const picked: SampledTrace[] = [];
  const pickedBy = new Map(order.map((k) => [k, 0]));
  const cursor = new Map(order.map((k) => [k, 0]));
  const missing: string[] = [];
  const needMore: string[] = [];

  /** Walks a group until it has `target` picks or runs out; false when text or candidates are missing. */
  const walk = (group: string, target: number): boolean => {
    const list = groups.get(group)?.candidates ?? [];
    const complete = groups.get(group)?.complete ?? true;
    let i = cursor.get(group) ?? 0;
    while ((pickedBy.get(group) ?? 0) < target && picked.length < policy.maxSample) {
      if (i >= list.length) {
        if (complete) break;
        needMore.push(group);
        cursor.set(group, i);
        return false;
      }
      const c = list[i] as SampleCandidate;
      if (
        policy.perUserCap !== null &&
        c.userId !== null &&
        (perUser.get(c.userId) ?? 0) >= policy.perUserCap
      ) {
        skipped.userCap += 1;
        i += 1;
        continue;
      }
      if (needsText) {
        const text = textOf(c.id);
        if (text === undefined) {
          // Ask for this group's next stretch of texts in one go.
          for (const next of list.slice(i, i + Math.max(64, 2 * (target - (pickedBy.get(group) ?? 0)))))
            if (textOf(next.id) === undefined) missing.push(next.id);
          cursor.set(group, i);
          return false;
        }
        const key = exactKey(text);
        if (policy.dedup.exact && exact.has(key)) {
          skipped.exactDuplicate += 1;
          i += 1;
          continue;
        }
        if (near && near.add(c.id, text) !== null) {
          skipped.nearDuplicate += 1;
          i += 1;
          continue;
        }
        exact.add(key);
      }
      if (c.userId !== null) perUser.set(c.userId, (perUser.get(c.userId) ?? 0) + 1);
      picked.push({
        traceId: c.id,
        reason: group,
        reasons: [...c.strata.filter((s) => strata.has(s)), ...(c.random ? [RANDOM] : [])],
      });
      pickedBy.set(group, (pickedBy.get(group) ?? 0) + 1);
      i += 1;
    }
    cursor.set(group, i);
    return true;
  };

  // First every group up to its quota, then whatever room dedup and caps left, by priority.
  for (const group of order)
    if (!walk(group, quotas.get(group) ?? 0)) return { done: false, needText: missing, needMore };
  for (const group of order)
    if (!walk(group, Number.POSITIVE_INFINITY)) return { done: false, needText: missing, needMore };

  return {
    done: true,
    selection: {
      picked,
      skipped,
      strata: Object.fromEntries(
        order.map((k) => [
          k,
          { available: sizes.get(k) ?? 0, quota: quotas.get(k) ?? 0, picked: pickedBy.get(k) ?? 0 },
        ]),
      ),
    },
  };
}

/** How many traces each group gets before dedup and caps: all of them unless `maxSample` binds. */
export function groupQuotas(sizes: ReadonlyMap<string, number>, policy: SamplingPolicy): Map<string, number> {
  const total = policy.maxSample;
  const all = [...sizes.values()].reduce((a, b) => a + b, 0);
  if (all <= total) return new Map(sizes);
  const randomSize = sizes.get(RANDOM) ?? 0;
  const reserve = Math.min(randomSize, Math.ceil(policy.minRandomShare * total));
  const strataSizes = new Map([...sizes].filter(([k]) => k !== RANDOM));
  const quotas = allocate(strataSizes, total - reserve, policy.allocation);
  const used = [...quotas.values()].reduce((a, b) => a + b, 0);
  quotas.set(RANDOM, Math.min(randomSize, total - used));
  return quotas;
}

/**
 * How far the random group must be counted for `groupQuotas` to come out as with its true
 * size: past the random share it reserves, past the room the strata leave it, and past the
 * point where the strata and it together exceed `maxSample`. At or beyond this count,
 * `maxSample + 1` gives the same quotas as the true size.
 */
export function randomCountCap(strataSizes: ReadonlyMap<string, number>, policy: SamplingPolicy): number {
  const unbounded = new Map(strataSizes);
  unbounded.set(RANDOM, policy.maxSample + 1);
  const roomLeft = groupQuotas(unbounded, policy).get(RANDOM) ?? 0;
  const strataTotal = [...strataSizes].reduce((sum, [group, n]) => (group === RANDOM ? sum : sum + n), 0);
  const reserve = Math.ceil(policy.minRandomShare * policy.maxSample);
  return Math.min(policy.maxSample + 1, Math.max(roomLeft, reserve, policy.maxSample - strataTotal) + 1);
}
