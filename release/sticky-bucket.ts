import { stableHash53 } from '../optimizers/stable-hash.js';

export const BUCKETS = 10_000;

/** A unit's bucket is fixed per rollout, so a user keeps its version as the weight grows. */
export function bucketOf(unitKey: string, rolloutId: string): number {
  return stableHash53(`${rolloutId}:${unitKey}`) % BUCKETS;
}

/** weight is a percentage in [0, 100]. Buckets below the cut-off see the candidate. */
export function servesCandidate(unitKey: string, rolloutId: string, weight: number): boolean {
  return bucketOf(unitKey, rolloutId) < Math.round((weight / 100) * BUCKETS);
}
