import type { CoachingSet } from '../schemas/coaching.js';
import { ConflictError, NotFoundError } from '../schemas/user-error.js';
import { settleCandidateCoaching, type CoachingDeps } from './coaching-service.js';

/** What became of one member of a coaching set when its rollout ended. */
export interface SettledMember {
  id: string;
  version: number;
  /** The status it moved to; null: it had left `candidate` meanwhile and was left as it is. */
  to: 'active' | 'retired' | null;
  detail: string;
}

/**
 * Ends a rollout's coaching set with the rollout: completion promotes every member still a
 * candidate (production recalls it from now on), a rollback retires it (a gate and a live
 * analysis both saw it with the candidate it failed with). Each move is a new version of that
 * coaching, audited and announced like a person's promote or retire, by the rollout's actor.
 * A member someone promoted, retired, edited or deleted meanwhile is left as it is, and said so.
 */
export async function settleCoachingSet(
  deps: Pick<CoachingDeps, 'db' | 'artifacts'>,
  agent: string,
  set: CoachingSet,
  outcome: 'completed' | 'rolled_back',
  actor: string,
  reason: string,
): Promise<SettledMember[]> {
  const to = outcome === 'completed' ? 'active' : 'retired';
  const settled: SettledMember[] = [];
  for (const member of set) {
    try {
      const { coaching } = await settleCandidateCoaching(
        deps,
        { agent, id: member.id, version: member.version, actor, reason },
        to,
      );
      settled.push({ ...member, to, detail: `v${coaching.version}` });
    } catch (e) {
      if (!(e instanceof ConflictError || e instanceof NotFoundError)) throw e;
      settled.push({ ...member, to: null, detail: e.message });
    }
  }
  return settled;
}
