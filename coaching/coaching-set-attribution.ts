import type { CoachingSet } from '../schemas/coaching.js';
import type { CoachingMemberAttribution } from '../schemas/gate-report.js';

/**
 * Which members of a coaching set the gate keeps. A gate judges a set as one change, so a
 * reviewer's wrong or too broadly worded memory could ship inside a set the others carry
 * past the gate, or sink it. A memory only acts where the conversation recalls it, so its
 * own evidence is the gate examples that recalled it: on each, the candidate's score with
 * the set against its score without (same prompt, the active coaching only). A member that
 * made more of its examples worse than better is dropped (the gate re-scores the set
 * without it and retires it); one no example recalled is kept on no evidence, said so, and
 * left to the staged rollout's live analysis.
 *
 * Two members recalled in the same conversation share its credit or blame: the gate cannot
 * tell them apart there, and a member that is only ever recalled beside a harmful one is
 * dropped with it only if its own examples say so.
 */

/** One gate example where at least one set member was recalled. */
export interface RecalledExample {
  id: string;
  split: 'eval' | 'holdout';
  /** The set members recalled into this conversation (ids). */
  members: readonly string[];
  /**
   * The candidate's score with the set minus its score without it (mean over the gate's
   * dimensions measured on both); positive: the set helped here.
   */
  delta: number;
}

export interface SetAttribution {
  members: CoachingMemberAttribution[];
  kept: CoachingSet;
  dropped: CoachingSet;
}

/** Below this a score difference is rounding, not a change (scores live in [0, 1]). */
const EPSILON = 1e-9;

export function attributeCoachingSet(set: CoachingSet, examples: readonly RecalledExample[]): SetAttribution {
  const members = set.map((m): CoachingMemberAttribution => {
    const mine = examples.filter((e) => e.members.includes(m.id));
    const better = mine.filter((e) => e.delta > EPSILON).length;
    const worse = mine.filter((e) => e.delta < -EPSILON).length;
    const kept = worse <= better;
    const shared = mine.filter((e) => e.members.length > 1).length;
    return {
      id: m.id,
      version: m.version,
      recalled: mine.length,
      better,
      worse,
      kept,
      detail: detailOf(mine.length, better, worse, shared, kept),
    };
  });
  const keptIds = new Set(members.filter((m) => m.kept).map((m) => m.id));
  return {
    members,
    kept: set.filter((m) => keptIds.has(m.id)),
    dropped: set.filter((m) => !keptIds.has(m.id)),
  };
}

function detailOf(recalled: number, better: number, worse: number, shared: number, kept: boolean): string {
  if (recalled === 0)
    return "no gate example recalled it: kept on no evidence, the rollout's live analysis judges it";
  const counts = `recalled on ${recalled} example${recalled === 1 ? '' : 's'}: ${better} better, ${worse} worse, ${recalled - better - worse} unchanged`;
  const sharedNote = shared > 0 ? ` (${shared} shared with another member of the set)` : '';
  return kept
    ? `${counts}${sharedNote}`
    : `${counts}${sharedNote}: dropped, it made more of its conversations worse than better`;
}

/** The mean score difference over the dimensions both sides measured (0 when none). */
export function scoreDelta(
  withSet: Readonly<Record<string, number>>,
  without: Readonly<Record<string, number>>,
): number {
  const dims = Object.keys(withSet).filter((d) => d in without);
  if (dims.length === 0) return 0;
  return dims.reduce((s, d) => s + withSet[d]! - without[d]!, 0) / dims.length;
}
