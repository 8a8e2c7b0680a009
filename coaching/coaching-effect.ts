import { COACHING_TRACE_ATTRIBUTE } from '../schemas/coaching.js';

/**
 * A coaching's measured effect: how conversations that applied it went, next to similar
 * conversations (same situation, as recall measures it) that did not. Two signals, each
 * counted only on the traces that carry it:
 * - user feedback: a trace with a thumbs up (> 0) succeeded, a thumbs down (< 0) failed;
 *   neutral or absent feedback says nothing;
 * - online evaluation's judge: a trace it judged succeeded when no judge score failed.
 * Each rate has a 95 % Wilson interval, and the difference (with − without) a 95 % Newcombe
 * interval, so a handful of traces reads as what it is.
 */

export interface TraceOutcome {
  feedback: number | null;
  /** Online judge scores of the trace (scores with no cycle, source judge). */
  judgeScores: number;
  judgeFailures: number;
}

export interface SuccessRate {
  /** Traces with this signal. */
  traces: number;
  successes: number;
  rate: number | null;
  interval: [number, number] | null;
}

export interface RateComparison {
  with: SuccessRate;
  without: SuccessRate;
  /** with.rate − without.rate. */
  difference: number | null;
  interval: [number, number] | null;
}

export interface EffectComparison {
  feedback: RateComparison;
  onlineJudge: RateComparison;
}

const Z = 1.959964;
const round = (x: number) => Math.round(x * 10_000) / 10_000;

export const feedbackSuccess = (o: TraceOutcome): boolean | null =>
  o.feedback === null || o.feedback === 0 ? null : o.feedback > 0;

export const judgeSuccess = (o: TraceOutcome): boolean | null =>
  o.judgeScores === 0 ? null : o.judgeFailures === 0;

function wilson(successes: number, n: number): [number, number] {
  const p = successes / n;
  const z2 = Z * Z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export function successRate(signals: readonly (boolean | null)[]): SuccessRate {
  const counted = signals.filter((s): s is boolean => s !== null);
  const successes = counted.filter(Boolean).length;
  if (counted.length === 0) return { traces: 0, successes: 0, rate: null, interval: null };
  const [lo, hi] = wilson(successes, counted.length);
  return {
    traces: counted.length,
    successes,
    rate: round(successes / counted.length),
    interval: [round(lo), round(hi)],
  };
}

/** The difference of two rates with Newcombe's hybrid score interval (method 10). */
export function compareRates(withIt: SuccessRate, without: SuccessRate): RateComparison {
  if (withIt.traces === 0 || without.traces === 0)
    return { with: withIt, without, difference: null, interval: null };
  const p1 = withIt.successes / withIt.traces;
  const p2 = without.successes / without.traces;
  const [l1, u1] = wilson(withIt.successes, withIt.traces);
  const [l2, u2] = wilson(without.successes, without.traces);
  const d = p1 - p2;
  return {
    with: withIt,
    without,
    difference: round(d),
    interval: [
      round(d - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)),
      round(d + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)),
    ],
  };
}

export function compareOutcomes(
  withIt: readonly TraceOutcome[],
  without: readonly TraceOutcome[],
): EffectComparison {
  const compare = (signal: (o: TraceOutcome) => boolean | null) =>
    compareRates(successRate(withIt.map(signal)), successRate(without.map(signal)));
  return { feedback: compare(feedbackSuccess), onlineJudge: compare(judgeSuccess) };
}

/**
 * The versions of coaching `id` a trace applied, from its `flywheel.coaching.ids` attribute
 * (`id@version` each, as a list, or one such string); none when it applied none.
 */
export function appliedVersions(attributes: Record<string, unknown>, id: string): number[] {
  const raw = attributes[COACHING_TRACE_ATTRIBUTE];
  const values = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  const versions = new Set<number>();
  for (const value of values) {
    if (typeof value !== 'string') continue;
    const at = value.trim().lastIndexOf('@');
    if (at <= 0 || value.trim().slice(0, at) !== id) continue;
    const version = Number(value.trim().slice(at + 1));
    if (Number.isInteger(version) && version > 0) versions.add(version);
  }
  return [...versions].sort((a, b) => a - b);
}

/** The attribute values that mean "applied coaching `id`", one per version it has had. */
export const applicationTags = (id: string, newestVersion: number): string[] =>
  Array.from({ length: newestVersion }, (_, i) => `${id}@${i + 1}`);
