import { DEFAULT_COACHING_THRESHOLD, type ThresholdCalibration } from '../schemas/coaching.js';

/**
 * The recall threshold of a coaching created without one, calibrated on the embedder that
 * will recall it. Cosine similarities mean different things to different embedders (the
 * simulator's embedder scores a suggested situation's own request 0.25-0.27 where the local
 * TF-IDF scores it 0.5-0.6), so one fixed default recalls a coaching on one embedder and
 * never on another.
 *
 * The evidence, measured at creation with the configured embedder:
 * - `source`: the situation's similarity to the conversation it was written on (the source
 *   step's situation query, else its example request): one that must recall it;
 * - `others`: its similarities to the agent's other recent conversations. Most are in other
 *   situations; some may be in this one (a common situation is a tenth of the traffic), so
 *   no fixed quantile of them is safely "not this situation".
 *
 * The rule: sort the others, most similar first, and look for the widest gap between two
 * neighbours below the source, with at most MAX_ABOVE_SHARE of the others above it (a
 * situation is not a quarter of an agent's conversations). The others above the gap are
 * taken to be in the situation, the rest not; the threshold is the middle of the gap, so
 * it sits as far from both as the evidence allows. Ties go to the gap with fewer others
 * above it (recalling less is the safer mistake).
 * - No source (a migrated instruction, a coaching given neither a trace nor an example), no
 *   gap of at least MIN_GAP (the situation does not tell its conversation from the others)
 *   or fewer than MIN_OTHERS others (a new agent): the default,
 *   DEFAULT_COACHING_THRESHOLD, lowered to just below the source (source − SOURCE_MARGIN)
 *   when the source scores under it, so the conversation it was written on recalls it.
 * - Always clamped to [CALIBRATED_MIN, CALIBRATED_MAX] and rounded to 3 decimals.
 * Reviewers' marks then move it within bounds relative to it (coaching-threshold.ts).
 */

/** Other conversations read at creation (the agent's newest ones). */
export const CALIBRATION_SAMPLE = 200;
export const MIN_OTHERS = 20;
export const MAX_ABOVE_SHARE = 0.25;
export const MIN_GAP = 0.03;
export const SOURCE_MARGIN = 0.02;
export const CALIBRATED_MIN = 0.1;
export const CALIBRATED_MAX = 0.8;

export interface CalibrationEvidence {
  embedder: string;
  /** Similarity of the situation to its source conversation; null when it has none. */
  source: number | null;
  /** Similarities of the situation to the agent's other recent conversations. */
  others: readonly number[];
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const round2 = (x: number) => Math.round(x * 100) / 100;
const clamp = (t: number) => round3(Math.min(CALIBRATED_MAX, Math.max(CALIBRATED_MIN, t)));

/** The widest gap below `source` with at most `maxAbove` of `desc` (sorted, most similar first) above it. */
function widestGap(source: number, desc: readonly number[], maxAbove: number) {
  let best: { above: number; upper: number; lower: number } | null = null;
  for (let above = 0; above <= Math.min(maxAbove, desc.length - 1); above++) {
    const lower = desc[above]!;
    const upper = above === 0 ? source : Math.min(source, desc[above - 1]!);
    if (upper <= lower) continue;
    if (!best || upper - lower > best.upper - best.lower + 1e-12) best = { above, upper, lower };
  }
  return best;
}

/** The calibrated threshold and how it was chosen (see the rule above). */
export function calibrateThreshold(evidence: CalibrationEvidence): ThresholdCalibration {
  const { source, others, embedder } = evidence;
  const fallback = (why: string): ThresholdCalibration => {
    const lowered = source !== null && source - SOURCE_MARGIN < DEFAULT_COACHING_THRESHOLD;
    const threshold = clamp(lowered ? source - SOURCE_MARGIN : DEFAULT_COACHING_THRESHOLD);
    return {
      rule: 'default',
      embedder,
      source: source === null ? null : round3(source),
      others: others.length,
      above: 0,
      gap: null,
      threshold,
      summary: `default: ${why} → ${threshold}${lowered ? ` (${DEFAULT_COACHING_THRESHOLD} lowered below the source ${round2(source)})` : ''}`,
    };
  };
  // Without a source the others alone cannot say which of them are in the situation: the
  // widest gap among them put two other kinds of request above it on the airline scenario.
  if (source === null) return fallback('no source conversation or example to calibrate on');
  if (others.length < MIN_OTHERS)
    return fallback(`${others.length} other requests of the agent, fewer than ${MIN_OTHERS}`);
  const desc = [...others].sort((a, b) => b - a);
  const gap = widestGap(source, desc, Math.floor(MAX_ABOVE_SHARE * others.length));
  if (!gap || gap.upper - gap.lower < MIN_GAP)
    return fallback(
      `no gap of ${MIN_GAP} below the source ${round2(source)} among ${others.length} other requests`,
    );
  // Never above the default: measured, the widest gap can sit right under the source, above
  // the requests of its own situation (bench:flywheel synthetic-12: reviewers' coaching then
  // fixed 0 of 25 failure modes, against 24 of 25 at the default). Calibration lowers the
  // threshold for an embedder whose scale is lower; the gate's check on passing
  // conversations, and reviewers' marks, guard against recalling too widely.
  const middle = clamp((gap.upper + gap.lower) / 2);
  const capped = middle > DEFAULT_COACHING_THRESHOLD;
  const threshold = capped ? DEFAULT_COACHING_THRESHOLD : middle;
  return {
    rule: 'calibrated',
    embedder,
    source: round3(source),
    others: others.length,
    above: gap.above,
    gap: { upper: round3(gap.upper), lower: round3(gap.lower) },
    threshold,
    summary: `calibrated: source ${round2(source)}, ${gap.above} of ${others.length} other requests at ${round2(gap.upper)} or above, the rest ${round2(gap.lower)} or below → ${threshold}${capped ? ` (the gap's middle ${round2(middle)}, capped at the default)` : ''}`,
  };
}
