/**
 * How reviewers' "correctly applied" / "wrongly applied" marks move a coaching's recall
 * threshold. A coaching is recalled when the conversation's similarity to its situation
 * reaches the threshold, so every mark is a labelled point on that one axis: a wrongly
 * applied recall at similarity s says "s is too low to recall", a correctly applied one
 * says "s should still recall".
 *
 * The rule, recomputed from every mark (so it is the same whatever order they came in, and
 * changing a mark undoes its effect):
 * - a wrong mark pushes the threshold just above its similarity (s + 0.01), so that
 *   conversation and any less similar one are no longer recalled;
 * - a correct mark holds the threshold at or below its similarity, so it pulls a threshold
 *   that earlier wrong marks raised back down toward it;
 * - where they conflict (a wrong mark above a correct one), the threshold that misjudges the
 *   fewest marks wins; among equals, the one nearest the author's threshold (then the
 *   higher one: recalling less is the safer mistake);
 * - the threshold stays within [author − 0.10, author + 0.30] and [0.05, 0.95]: marks tune a
 *   situation, they do not replace it. A coaching whose wrong marks cannot be separated
 *   within those bounds is worded too broadly; the result says how many marks it still
 *   misjudges, so the reviewer rewords or retires it.
 * With no marks the threshold is the author's.
 */

export type MarkVerdict = 'correct' | 'wrong';

export interface ThresholdMark {
  similarity: number;
  verdict: MarkVerdict;
}

/** How far above a wrongly applied recall's similarity the threshold goes. */
export const THRESHOLD_MARGIN = 0.01;
export const MAX_THRESHOLD_RAISE = 0.3;
export const MAX_THRESHOLD_DROP = 0.1;
export const MIN_THRESHOLD = 0.05;
export const MAX_THRESHOLD = 0.95;

export interface ThresholdRefinement {
  threshold: number;
  /** The range the marks may move it in. */
  bounds: { lower: number; upper: number };
  /** Marks the threshold still gets wrong: wrong ones still recalled, correct ones no longer recalled. */
  misjudged: { wrongStillRecalled: number; correctNotRecalled: number };
  marks: { correct: number; wrong: number };
}

const SCALE = 10_000;
const roundUp = (x: number) => Math.ceil(x * SCALE - 1e-9) / SCALE;
const roundDown = (x: number) => Math.floor(x * SCALE + 1e-9) / SCALE;
const round = (x: number) => Math.round(x * SCALE) / SCALE;

export function thresholdBounds(authorThreshold: number): { lower: number; upper: number } {
  return {
    lower: round(Math.min(authorThreshold, Math.max(MIN_THRESHOLD, authorThreshold - MAX_THRESHOLD_DROP))),
    upper: round(Math.max(authorThreshold, Math.min(MAX_THRESHOLD, authorThreshold + MAX_THRESHOLD_RAISE))),
  };
}

function misjudged(threshold: number, marks: readonly ThresholdMark[]) {
  let wrongStillRecalled = 0;
  let correctNotRecalled = 0;
  for (const m of marks) {
    if (m.verdict === 'wrong' && m.similarity >= threshold) wrongStillRecalled++;
    if (m.verdict === 'correct' && m.similarity < threshold) correctNotRecalled++;
  }
  return { wrongStillRecalled, correctNotRecalled };
}

/** The threshold the marks give a coaching whose author chose `authorThreshold` (see the rule above). */
export function refineThreshold(
  authorThreshold: number,
  marks: readonly ThresholdMark[],
): ThresholdRefinement {
  const bounds = thresholdBounds(authorThreshold);
  const clamp = (t: number) => Math.min(bounds.upper, Math.max(bounds.lower, t));
  // The cost only changes at a mark's similarity, so the best threshold is one of these.
  const candidates = new Set<number>([round(authorThreshold)]);
  for (const m of marks)
    candidates.add(
      clamp(m.verdict === 'wrong' ? roundUp(m.similarity + THRESHOLD_MARGIN) : roundDown(m.similarity)),
    );
  let best: { threshold: number; errors: number } | null = null;
  for (const threshold of candidates) {
    const m = misjudged(threshold, marks);
    const errors = m.wrongStillRecalled + m.correctNotRecalled;
    const better =
      best === null ||
      errors < best.errors ||
      (errors === best.errors &&
        (Math.abs(threshold - authorThreshold) < Math.abs(best.threshold - authorThreshold) - 1e-12 ||
          (Math.abs(Math.abs(threshold - authorThreshold) - Math.abs(best.threshold - authorThreshold)) <=
            1e-12 &&
            threshold > best.threshold)));
    if (better) best = { threshold, errors };
  }
  const threshold = best!.threshold;
  return {
    threshold,
    bounds,
    misjudged: misjudged(threshold, marks),
    marks: {
      correct: marks.filter((m) => m.verdict === 'correct').length,
      wrong: marks.filter((m) => m.verdict === 'wrong').length,
    },
  };
}
