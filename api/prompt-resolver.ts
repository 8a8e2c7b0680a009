import { servesCandidate } from '../core/sticky-bucket.js';
import type { Db } from '../db/connection.js';
import { labelledVersion, versionById } from '../db/prompt-repository.js';

export interface ResolvedPrompt {
  agent: string;
  promptVersionId: string;
  version: number;
  text: string;
  variant: 'production' | 'candidate';
  rolloutId: string | null;
}

/**
 * Which prompt version a unit (user, session, account) gets: the candidate for units whose
 * sticky bucket falls under the live rollout weight, production for everyone else.
 */
export async function resolvePrompt(db: Db, agent: string, unitKey: string): Promise<ResolvedPrompt | null> {
  const rollout = await db
    .selectFrom('rollouts')
    .selectAll()
    .where('agent_id', '=', agent)
    .where('status', '=', 'running')
    .executeTakeFirst();
  if (rollout && rollout.weight > 0 && servesCandidate(unitKey, rollout.id, rollout.weight)) {
    const v = await versionById(db, rollout.candidate_version_id);
    return {
      agent,
      promptVersionId: v.id,
      version: v.version,
      text: v.text,
      variant: 'candidate',
      rolloutId: rollout.id,
    };
  }
  const production = rollout
    ? await versionById(db, rollout.baseline_version_id)
    : await labelledVersion(db, agent, 'production');
  if (!production) return null;
  return {
    agent,
    promptVersionId: production.id,
    version: production.version,
    text: production.text,
    variant: 'production',
    rolloutId: rollout?.id ?? null,
  };
}
