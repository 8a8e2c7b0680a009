import type { Db } from '../db/connection.js';
import { agentAttributionRules } from '../registry/store/agent-repository.js';
import type { AgentAttributionRules } from './span-agent-attribution.js';

/**
 * The agents' attribution rules as OTLP ingest reads them: once per process every few seconds
 * rather than once per request, since ingest runs at thousands of spans a second and rules
 * change by hand. A change made through this process's API is seen at once (the route
 * forgets the cache); one made elsewhere (the CLI, another replica) within RULES_TTL_MS.
 */
export const RULES_TTL_MS = 5_000;

const cache = new WeakMap<Db, { rules: Promise<AgentAttributionRules[]>; until: number }>();

export function attributionRules(db: Db): Promise<AgentAttributionRules[]> {
  const now = Date.now();
  const hit = cache.get(db);
  if (hit && hit.until > now) return hit.rules;
  const entry = { rules: agentAttributionRules(db), until: now + RULES_TTL_MS };
  cache.set(db, entry);
  // A failed read (the database away) is not remembered: the next request asks again.
  entry.rules.catch(() => {
    if (cache.get(db) === entry) cache.delete(db);
  });
  return entry.rules;
}

export function forgetAttributionRules(db: Db): void {
  cache.delete(db);
}
