import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Grant, Me, Role } from './api/types.js';

const RANK: Record<Role, number> = { viewer: 0, reviewer: 1, approver: 2, operator: 3, admin: 4 };

/**
 * Whether the person holds `role` or a higher one, globally or for `agent`: the same rule as
 * schemas/principal.ts hasRole. The console only uses it to hide controls; the API decides.
 */
export function holds(grants: readonly Grant[], role: Role, agent?: string | null): boolean {
  return grants.some(
    (g) => RANK[g.role] >= RANK[role] && (g.agent === null || (agent != null && g.agent === agent)),
  );
}

/** Whether the person holds `role` anywhere (for one agent at least). */
export const holdsAnywhere = (grants: readonly Grant[], role: Role): boolean =>
  grants.some((g) => RANK[g.role] >= RANK[role]);

export const SessionContext = createContext<Me | null>(null);

/** The signed-in person; pages render only inside a session. */
export function useMe(): Me {
  const me = useContext(SessionContext);
  if (!me) throw new Error('useMe outside a session');
  return me;
}
