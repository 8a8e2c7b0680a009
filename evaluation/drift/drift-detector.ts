import { HOUR_MS, perTestAlpha, type DriftConfig, type DriftMetric } from './drift-config.js';
import {
  histogramShiftTest,
  hypergeometricUpperTail,
  median,
  proportionIncreaseTest,
  rankIncreaseTest,
} from './drift-statistics.js';
import { choosePrototypes, nearestPrototype } from './input-prototypes.js';

/**
 * Drift detection for one agent: a reference window against the current sliding window, per
 * slice (`all` plus each slice the traces carry) and per metric, at every check.
 *
 * Multiplicity: the false-alarm budget (expected alerts per 30 days of unchanging traffic)
 * is split over the checks of 30 days and, at each check, over the tests that could reject
 * (Bonferroni with Tarone's refinement: a discrete test whose smallest attainable p-value is
 * above the level — a slice with no errors at all — cannot reject and is not counted). By
 * the union bound the expected number of false alarms is within budget however correlated
 * overlapping windows, metrics and slices are.
 *
 * Hysteresis: an alert starts a new epoch at its own time. No test runs until the epoch holds
 * `minReferenceHours` of traffic before the current window, so the reference is all
 * post-alert traffic: one drift raises one alert, and the drifted state is the new normal
 * until something (a cycle's rollout) changes it again.
 *
 * Pure: fed observations with their timestamps and the check time; no clock, PRNG or I/O.
 */

export interface DriftObservation {
  traceId: string;
  timeMs: number;
  /** The trace's slices (`flywheel.slices`); `all` is implied. */
  slices: readonly string[];
  /** The judge's (or code evaluators') overall verdict, when the trace was scored. */
  judgePass?: boolean;
  negativeFeedback: boolean;
  escalated: boolean;
  error: boolean;
  latencyMs?: number;
  costUsd?: number;
  /** The input's embedding (L2-normalised), when embedded. */
  embedding?: readonly number[];
}

export interface DriftState {
  /** Start of the current epoch: the agent's first traffic, or the last alert. */
  epochStartMs: number;
  /** The epoch's input prototypes, chosen at its first test. */
  prototypes: number[][] | null;
}

export const initialDriftState = (startMs: number): DriftState => ({
  epochStartMs: startMs,
  prototypes: null,
});

export interface DriftFinding {
  slice: string;
  metric: DriftMetric;
  /**
   * fisher: the metric's rate rose (one-sided exact test); mann_whitney: its values rose;
   * fisher_share: the slice's share of the agent's traffic rose (a kind of request that grows
   * or appears); chi_square_embedding: the agent's input embeddings moved between prototypes.
   */
  test: 'fisher' | 'mann_whitney' | 'fisher_share' | 'chi_square_embedding';
  /** Reference and current values: rates for proportions, medians for latency and cost,
   *  the slice's traffic share or the rising prototype's share for the input. */
  before: number;
  after: number;
  referenceCount: number;
  currentCount: number;
  /** z for ranks, χ² for the input, the current count for proportions. */
  statistic: number;
  pValue: number;
  /** The level the p-value was held to at this check. */
  alpha: number;
  /** Current-window traces that show it: failing, slowest, or inputs of the rising kind. */
  sampleTraceIds: string[];
}

export interface DriftAlert {
  atMs: number;
  referenceStartMs: number;
  currentStartMs: number;
  /** Every test that rejected at this check, smallest p-value first. */
  findings: DriftFinding[];
  /** Current-window traces behind the findings, for the early cycle to sample at 100 %. */
  driftedTraceIds: string[];
  testsCounted: number;
}

export interface DriftCheck {
  state: DriftState;
  alert: DriftAlert | null;
  /** False while the epoch's reference is still too short to test. */
  tested: boolean;
  testsCounted: number;
  /** The smallest p-value of the check and the level it was held to (for monitoring). */
  minPValue: number;
  alpha: number;
}

interface Candidate {
  slice: string;
  metric: DriftMetric;
  pValue: number;
  /** Smallest p-value the test could reach at all (Tarone); 0 for continuous tests. */
  minAttainable: number;
  /** The evidence, worked out only for the tests that reject. */
  describe: () => { finding: Omit<DriftFinding, 'alpha' | 'sampleTraceIds'>; exhibiting: string[] };
}

const PROPORTIONS: Partial<Record<DriftMetric, (o: DriftObservation) => boolean | undefined>> = {
  judge_fail: (o) => (o.judgePass === undefined ? undefined : !o.judgePass),
  negative_feedback: (o) => o.negativeFeedback,
  escalation: (o) => o.escalated,
  error: (o) => o.error,
};

export interface EvaluateDriftInput {
  config: DriftConfig;
  state: DriftState;
  /** Observations of the reference and current windows; others are ignored. */
  observations: readonly DriftObservation[];
  nowMs: number;
  /** Trace id → prototype index, kept by the caller between checks to embed once; reset with the prototypes. */
  binCache?: Map<string, number>;
}

export function evaluateDrift(input: EvaluateDriftInput): DriftCheck {
  const { config, nowMs } = input;
  let state = input.state;
  const currentStart = nowMs - config.currentWindowHours * HOUR_MS;
  const referenceStart = Math.max(state.epochStartMs, currentStart - config.referenceWindowHours * HOUR_MS);
  const quiet = { state, alert: null, tested: false, testsCounted: 0, minPValue: 1, alpha: 0 };
  if (currentStart - state.epochStartMs < config.minReferenceHours * HOUR_MS) return quiet;

  const watched = config.slices ? new Set(config.slices) : null;
  const groups = new Map<string, { reference: DriftObservation[]; current: DriftObservation[] }>();
  const reference: DriftObservation[] = [];
  const add = (slice: string, side: 'reference' | 'current', o: DriftObservation) => {
    let g = groups.get(slice);
    if (!g) groups.set(slice, (g = { reference: [], current: [] }));
    g[side].push(o);
  };
  for (const o of input.observations) {
    if (o.timeMs < referenceStart || o.timeMs >= nowMs) continue;
    const side = o.timeMs < currentStart ? 'reference' : 'current';
    if (side === 'reference') reference.push(o);
    add('all', side, o);
    for (const slice of o.slices)
      if (slice !== 'all' && (!watched || watched.has(slice))) add(slice, side, o);
  }

  const metrics = new Set(config.metrics);
  const binCache = input.binCache ?? new Map<string, number>();
  if (metrics.has('input') && state.prototypes === null) {
    const vectors = reference.flatMap((o) => (o.embedding ? [o.embedding] : []));
    if (vectors.length >= config.minReferenceSamples) {
      state = { ...state, prototypes: choosePrototypes(vectors, config.inputPrototypes) };
      binCache.clear();
    }
  }
  const binOf = (o: DriftObservation): number => {
    let bin = binCache.get(o.traceId);
    if (bin === undefined)
      binCache.set(o.traceId, (bin = nearestPrototype(state.prototypes ?? [], o.embedding ?? [])));
    return bin;
  };

  const candidates: Candidate[] = [];
  const enough = (r: number, c: number) => r >= config.minReferenceSamples && c >= config.minCurrentSamples;
  const all = groups.get('all') ?? { reference: [], current: [] };
  for (const [slice, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    for (const metric of config.metrics) {
      const property = PROPORTIONS[metric];
      if (property) {
        let rt = 0;
        let rc = 0;
        let ct = 0;
        let cc = 0;
        for (const o of g.reference) {
          const v = property(o);
          if (v === undefined) continue;
          rt++;
          if (v) rc++;
        }
        for (const o of g.current) {
          const v = property(o);
          if (v === undefined) continue;
          ct++;
          if (v) cc++;
        }
        if (!enough(rt, ct)) continue;
        const test = proportionIncreaseTest({ count: rc, trials: rt }, { count: cc, trials: ct });
        const total = rc + cc;
        candidates.push({
          slice,
          metric,
          pValue: test.pValue,
          minAttainable: hypergeometricUpperTail(Math.min(total, ct), rt + ct, total, ct),
          describe: () => ({
            finding: {
              slice,
              metric,
              test: 'fisher',
              before: test.referenceRate,
              after: test.currentRate,
              referenceCount: rt,
              currentCount: ct,
              statistic: cc,
              pValue: test.pValue,
            },
            exhibiting: g.current
              .filter((o) => property(o) === true)
              .map((o) => o.traceId)
              .reverse(),
          }),
        });
      } else if (metric === 'latency' || metric === 'cost') {
        const value = (o: DriftObservation) => (metric === 'latency' ? o.latencyMs : o.costUsd);
        const r: number[] = [];
        const c: number[] = [];
        for (const o of g.reference) if (value(o) !== undefined) r.push(value(o) as number);
        for (const o of g.current) if (value(o) !== undefined) c.push(value(o) as number);
        if (!enough(r.length, c.length)) continue;
        const test = rankIncreaseTest(r, c);
        candidates.push({
          slice,
          metric,
          pValue: test.pValue,
          minAttainable: 0,
          describe: () => {
            const before = median(r);
            return {
              finding: {
                slice,
                metric,
                test: 'mann_whitney',
                before,
                after: median(c),
                referenceCount: r.length,
                currentCount: c.length,
                statistic: test.z,
                pValue: test.pValue,
              },
              exhibiting: g.current
                .filter((o) => value(o) !== undefined && (value(o) as number) > before)
                .sort(
                  (a, b) => (value(b) as number) - (value(a) as number) || a.traceId.localeCompare(b.traceId),
                )
                .map((o) => o.traceId),
            };
          },
        });
      } else if (metric === 'input' && slice !== 'all') {
        // A slice's share of the agent's traffic: a kind of request that grows (or appears).
        // Exact at any count, so no minimum for the slice itself: Tarone's count leaves out
        // slices too small to reach the level.
        if (!enough(all.reference.length, all.current.length)) continue;
        const test = proportionIncreaseTest(
          { count: g.reference.length, trials: all.reference.length },
          { count: g.current.length, trials: all.current.length },
        );
        const total = g.reference.length + g.current.length;
        const population = all.reference.length + all.current.length;
        candidates.push({
          slice,
          metric,
          pValue: test.pValue,
          minAttainable: hypergeometricUpperTail(
            Math.min(total, all.current.length),
            population,
            total,
            all.current.length,
          ),
          describe: () => ({
            finding: {
              slice,
              metric,
              test: 'fisher_share',
              before: test.referenceRate,
              after: test.currentRate,
              referenceCount: all.reference.length,
              currentCount: all.current.length,
              statistic: g.current.length,
              pValue: test.pValue,
            },
            exhibiting: g.current.map((o) => o.traceId).reverse(),
          }),
        });
      } else if (metric === 'input' && state.prototypes !== null) {
        // The embedding histogram over the epoch's prototypes, for the agent's whole traffic.
        const k = state.prototypes.length;
        const rh = new Array<number>(k).fill(0);
        const ch = new Array<number>(k).fill(0);
        let rn = 0;
        let cn = 0;
        for (const o of g.reference) {
          if (!o.embedding) continue;
          rh[binOf(o)]! += 1;
          rn++;
        }
        for (const o of g.current) {
          if (!o.embedding) continue;
          ch[binOf(o)]! += 1;
          cn++;
        }
        if (!enough(rn, cn)) continue;
        const test = histogramShiftTest(rh, ch);
        const rising = test.risingBin;
        candidates.push({
          slice,
          metric,
          pValue: test.pValue,
          minAttainable: 0,
          describe: () => ({
            finding: {
              slice,
              metric,
              test: 'chi_square_embedding',
              before: rising < 0 ? 0 : (rh[rising] as number) / rn,
              after: rising < 0 ? 0 : (ch[rising] as number) / cn,
              referenceCount: rn,
              currentCount: cn,
              statistic: test.statistic,
              pValue: test.pValue,
            },
            exhibiting: g.current
              .filter((o) => o.embedding && binOf(o) === rising)
              .map((o) => o.traceId)
              .reverse(),
          }),
        });
      }
    }
  }

  const checkAlpha = perTestAlpha(config, 1);
  const counted = taroneCount(
    candidates.map((c) => c.minAttainable),
    checkAlpha,
  );
  const alpha = checkAlpha / Math.max(1, counted);
  const rejected = candidates
    .filter((c) => c.pValue <= alpha)
    .sort((a, b) => a.pValue - b.pValue || a.slice.localeCompare(b.slice) || a.metric.localeCompare(b.metric))
    .map((c) => c.describe());
  const minPValue = candidates.reduce((m, c) => Math.min(m, c.pValue), 1);
  const check = { tested: true, testsCounted: counted, minPValue, alpha };
  if (rejected.length === 0) return { ...check, state, alert: null };

  const drifted = new Set<string>();
  for (const c of rejected) {
    for (const id of c.exhibiting) {
      if (drifted.size >= config.maxDriftedTraces) break;
      drifted.add(id);
    }
  }
  return {
    ...check,
    // A new epoch from this alert on: the hysteresis described at the top.
    state: { epochStartMs: nowMs, prototypes: null },
    alert: {
      atMs: nowMs,
      referenceStartMs: referenceStart,
      currentStartMs: currentStart,
      findings: rejected.map((c) => ({
        ...c.finding,
        alpha,
        sampleTraceIds: c.exhibiting.slice(0, config.sampleTraces),
      })),
      driftedTraceIds: [...drifted],
      testsCounted: counted,
    },
  };
}

/**
 * Tarone's count of tests for Bonferroni with discrete tests: the smallest k such that at
 * most k tests can reach a p-value of alpha / k. The others cannot reject at that level, so
 * leaving them out of the division keeps the family-wise error within alpha.
 */
export function taroneCount(minAttainable: readonly number[], alpha: number): number {
  const sorted = [...minAttainable].sort((a, b) => a - b);
  for (let k = 1; k <= sorted.length; k++) {
    const able = sorted.filter((p) => p <= alpha / k).length;
    if (able <= k) return k;
  }
  return Math.max(1, sorted.length);
}
