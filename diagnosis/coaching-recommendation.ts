import { DEFAULT_COACHING_THRESHOLD } from '../schemas/coaching.js';

/**
 * When the diagnosis recommends coaching for a failure cluster. The rungs (prompt, tool,
 * context, fine-tune, RL) say what kind of change fixes a cluster; coaching is a narrower
 * tool beside them: a situation-scoped example that the agent recalls only in
 * conversations like the ones that failed, leaving every other conversation as it is. It
 * fits a cluster that is
 * - small (2 to 5 failures): a large cluster is a general weakness the prompt should fix;
 * - situation-specific: one situation recalls every failure of the cluster. Each member's
 *   request gives a candidate situation (the one a correction on it would suggest); the
 *   candidate whose least similar member is most similar wins, and the cluster qualifies
 *   when that least similarity reaches the default recall threshold, so a coaching written
 *   on that trace with that situation is recalled on every failure of the cluster;
 * - not an infrastructure failure (an outage or a timeout has no situation to coach).
 * The recommendation comes beside the cluster's rung, never instead of it: prompt-rung
 * clusters still go to the optimizer. It names the command that creates the coaching: from
 * a review item that corrected one of the failures when there is one, else from the trace.
 */

export const COACHING_CLUSTER_MIN = 2;
export const COACHING_CLUSTER_MAX = 5;

export interface CoachingCandidate {
  traceId: string;
  /** The situation a correction on this trace would suggest. */
  situation: string;
  situationVector: readonly number[];
  /** The request the agent answered (what recall matches), as a vector of the same embedder. */
  requestVector: readonly number[];
  /** A review item of this cycle whose label corrected the trace's step. */
  correctedItemId: string | null;
}

export interface CoachingRecommendation {
  situation: string;
  traceId: string;
  itemId: string | null;
  /** Failures of the cluster the situation recalls (every one, when recommended). */
  failures: number;
  /** The least similarity of a failure's request to the situation. */
  minSimilarity: number;
  threshold: number;
  command: string;
}

function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** A word for a POSIX shell: single-quoted, quotes inside escaped. */
export const shellWord = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function recommendCoaching(
  agent: string,
  cluster: { category: string; members: number },
  candidates: readonly CoachingCandidate[],
  threshold: number = DEFAULT_COACHING_THRESHOLD,
): CoachingRecommendation | null {
  if (cluster.category === 'infra') return null;
  if (cluster.members < COACHING_CLUSTER_MIN || cluster.members > COACHING_CLUSTER_MAX) return null;
  // Every failure must have a request to match, or one of them would never recall it.
  if (candidates.length !== cluster.members) return null;
  let best: { candidate: CoachingCandidate; min: number } | null = null;
  for (const candidate of candidates) {
    const min = Math.min(...candidates.map((m) => cosine(candidate.situationVector, m.requestVector)));
    const better =
      best === null ||
      min > best.min + 1e-12 ||
      (Math.abs(min - best.min) <= 1e-12 &&
        ((candidate.correctedItemId !== null && best.candidate.correctedItemId === null) ||
          ((candidate.correctedItemId === null) === (best.candidate.correctedItemId === null) &&
            candidate.traceId < best.candidate.traceId)));
    if (better) best = { candidate, min };
  }
  if (!best || best.min < threshold) return null;
  const { candidate } = best;
  const corrected =
    candidate.correctedItemId ?? candidates.find((c) => c.correctedItemId)?.correctedItemId ?? null;
  const command =
    corrected === null
      ? `flywheel coaching create ${agent} --situation ${shellWord(candidate.situation)} --trace ${candidate.traceId} --reply '<what the agent should have said>'`
      : corrected === candidate.correctedItemId
        ? `flywheel coaching from-item ${corrected}`
        : `flywheel coaching from-item ${corrected} --situation ${shellWord(candidate.situation)}`;
  return {
    situation: candidate.situation,
    traceId: candidate.traceId,
    itemId: corrected,
    failures: candidates.length,
    minSimilarity: Math.round(best.min * 1000) / 1000,
    threshold,
    command,
  };
}
