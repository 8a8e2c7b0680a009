import type { CoachingSet } from '../schemas/coaching.js';
import type { CoachingMemberAttribution } from '../schemas/gate-report.js';

/**
 * Which members of a coaching set the gate keeps. A gate judges a set as one change, so a
 * reviewer's wrong or too broadly worded memory could ship inside a set the others carry
 * past the gate, or sink it. A memory only acts where the conversation recalls it, so its
 * own evidence is the gate's eval examples that recalled it: on each, the candidate's score
 * with the set against its score without (same prompt, the active coaching only). A
 * difference within the gate's non-regression tolerance is noise (a judge's wobble), not a
 * change. A member that made any of its examples worse is left out of this release: a
 * coaching should act in its situation only, and one that misfires would regress requests
 * that worked. If it made more worse than better it is also retired (a wrong memory, not to
 * be gated again with every later cycle); otherwise it stays a candidate for a person to
 * narrow. A member no example recalled is kept on no evidence, said so, and left to the
 * staged rollout's live analysis. The holdout is not used here, so it stays an independent
 * check of what is kept.
 *
 * Two members recalled in the same conversation both get its credit or blame: the gate
 * cannot tell them apart there.
 */

/** One gate example where at least one set member was recalled. */
export interface RecalledExample {
  id: string;
  /**
   * `traffic`: a recent production conversation the judge passed, replayed with and without
   * the set against the step the agent took: where a member changes a good answer, it
   * misfires (routine requests are rare in a dataset built from labelled failures).
   */
  split: 'eval' | 'holdout' | 'traffic';
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

export function attributeCoachingSet(
  set: CoachingSet,
  examples: readonly RecalledExample[],
  /** Differences within ±tolerance are noise (the gate's non-regression tolerance). */
  tolerance: number,
): SetAttribution {
  const band = Math.max(tolerance, EPSILON);
  const members = set.map((m): CoachingMemberAttribution => {
    const mine = examples.filter((e) => e.members.includes(m.id));
    const better = mine.filter((e) => e.delta > band).length;
    const worse = mine.filter((e) => e.delta < -band).length;
    // A coaching is meant to act in its situation only, so any conversation it makes worse is
    // a misfire: too broad a situation, or the wrong behaviour. Shipped, it would regress
    // requests that worked; left out, the set ships without it.
    const kept = worse === 0;
    // Harm outweighing help is a wrong memory: retired. Help outweighing harm is a good
    // behaviour worded too broadly: it stays a candidate for a person to narrow.
    const retire = worse > better;
    const shared = mine.filter((e) => e.members.length > 1).length;
    const traffic = mine.filter((e) => e.split === 'traffic');
    return {
      id: m.id,
      version: m.version,
      recalled: mine.length,
      better,
      worse,
      kept,
      ...(kept ? {} : { retire }),
      detail: detailOf(mine.length, better, worse, shared, kept, retire, {
        recalled: traffic.length,
        worse: traffic.filter((e) => e.delta < -band).length,
      }),
    };
  });
  const keptIds = new Set(members.filter((m) => m.kept).map((m) => m.id));
  return {
    members,
    kept: set.filter((m) => keptIds.has(m.id)),
    dropped: set.filter((m) => !keptIds.has(m.id)),
  };
}

function detailOf(
  recalled: number,
  better: number,
  worse: number,
  shared: number,
  kept: boolean,
  retire: boolean,
  traffic: { recalled: number; worse: number },
): string {
  if (recalled === 0)
    return "no eval example or recent passing conversation recalled it: kept on no evidence, the rollout's live analysis judges it";
  const onEval = recalled - traffic.recalled;
  const where =
    traffic.recalled === 0
      ? `${onEval} eval example${onEval === 1 ? '' : 's'}`
      : `${onEval} eval example${onEval === 1 ? '' : 's'} and ${traffic.recalled} recent passing conversation${traffic.recalled === 1 ? '' : 's'} (${traffic.worse} changed for the worse)`;
  const counts = `recalled on ${where}: ${better} better, ${worse} worse, ${recalled - better - worse} unchanged`;
  const sharedNote = shared > 0 ? ` (${shared} shared with another member of the set)` : '';
  if (kept) return `${counts}${sharedNote}`;
  return retire
    ? `${counts}${sharedNote}: left out of this release and retired, it made more of them worse than better`
    : `${counts}${sharedNote}: left out of this release, it stays a candidate: it helps where it applies but misfires elsewhere, so narrow its situation (or retire it)`;
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
