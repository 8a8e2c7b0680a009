import { z } from 'zod';
import { ForbiddenError } from './user-error.js';

/**
 * Who is acting, as authentication established it. People (users) act through a console
 * session or a personal token; agents act through agent tokens, whose scopes allow only
 * their own traffic (ingest, feedback, resolve). Pure: the API, the CLI and the workflow's
 * decision check all read the same rules.
 */

/** Ordered: each role includes everything the roles before it may do. */
export const ROLES = ['viewer', 'reviewer', 'approver', 'operator', 'admin'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

export const AGENT_SCOPES = ['ingest', 'feedback', 'resolve'] as const;
export const AgentScope = z.enum(AGENT_SCOPES);
export type AgentScope = z.infer<typeof AgentScope>;

/** A role held everywhere (`agent: null`) or for one agent's prompts, cycles and traces. */
export const RoleGrant = z.object({ role: Role, agent: z.string().min(1).nullable() });
export type RoleGrant = z.infer<typeof RoleGrant>;

export type Principal =
  | {
      kind: 'user';
      /** The user name: what audit rows, approvals and claims record. */
      id: string;
      grants: RoleGrant[];
      /** How this request authenticated; a personal token may be capped below the user's roles. */
      via: 'session' | 'token';
      tokenId?: string;
    }
  | {
      kind: 'agent';
      /** The token id. */
      id: string;
      agent: string;
      scopes: AgentScope[];
    };

/** What a route or an operation needs. `agent` narrows a role check to one agent's grants. */
export type Requirement = { role: Role } | { scope: AgentScope } | { public: true };

const rank = (role: Role) => ROLES.indexOf(role);

/** Whether `grants` include `role` (or a higher one) globally or for `agent`. */
export function hasRole(grants: readonly RoleGrant[], role: Role, agent?: string | null): boolean {
  return grants.some(
    (g) => rank(g.role) >= rank(role) && (g.agent === null || (agent != null && g.agent === agent)),
  );
}

/**
 * Whether `principal` meets `requirement`. For an agent-scoped route `agent` names the
 * agent the request touches: an agent token acts only for its own agent, and a per-agent
 * role grant counts only there. Without `agent` (lists over every agent, lineage, global
 * settings) only a global grant counts: a person with a role for one agent lists that
 * agent's things by asking for them (`?agent=`), and sees nothing of the others.
 */
export function allows(principal: Principal, requirement: Requirement, agent?: string | null): boolean {
  if ('public' in requirement) return true;
  if ('scope' in requirement)
    return (
      principal.kind === 'agent' &&
      principal.scopes.includes(requirement.scope) &&
      (agent == null || principal.agent === agent)
    );
  if (principal.kind !== 'user') return false;
  if (agent != null) return hasRole(principal.grants, requirement.role, agent);
  return hasRole(principal.grants, requirement.role, null);
}

/** How audit rows and messages name a principal: `user:alice`, `agent-token:tok_ab12 (demo)`. */
export function principalLabel(principal: Principal): string {
  return principal.kind === 'user'
    ? `user:${principal.id}`
    : `agent-token:${principal.id} (${principal.agent})`;
}

/** What a 403 says: the requirement, in words a person can act on. */
export function describeRequirement(requirement: Requirement, agent?: string | null): string {
  if ('public' in requirement) return 'nothing';
  if ('scope' in requirement)
    return `an agent token with the "${requirement.scope}" scope${agent ? ` for agent "${agent}"` : ''}`;
  return `the ${requirement.role} role (or higher)${agent ? ` for agent "${agent}" or globally` : ' globally'}`;
}

/**
 * A user name: what people type to sign in and what audit rows, approvals and claims record.
 * Lower case only, so `Alice` and `alice` can never be two people (or two throttle keys).
 */
export const UserId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._@-]{0,63}$/,
    'a user name is 1-64 characters: lower-case letters, digits and . _ @ -, starting with a letter or digit',
  );

/** The lower of two roles. */
export function lowerRole(a: Role, b: Role): Role {
  return rank(a) <= rank(b) ? a : b;
}

/**
 * `grants` without the ones another grant already implies (a global operator makes a global
 * viewer or an operator for one agent redundant), globals first, then by agent.
 */
export function simplifyGrants(grants: readonly RoleGrant[]): RoleGrant[] {
  const strongestFirst = [...grants].sort(
    (a, b) => rank(b.role) - rank(a.role) || Number(a.agent !== null) - Number(b.agent !== null),
  );
  const kept: RoleGrant[] = [];
  for (const grant of strongestFirst) if (!hasRole(kept, grant.role, grant.agent)) kept.push(grant);
  return sortGrants(kept);
}

/** Grants in the order lists show them: globals first, then by agent, higher roles first. */
export function sortGrants(grants: readonly RoleGrant[]): RoleGrant[] {
  return [...grants].sort(
    (a, b) =>
      Number(a.agent !== null) - Number(b.agent !== null) ||
      (a.agent ?? '').localeCompare(b.agent ?? '') ||
      rank(b.role) - rank(a.role),
  );
}

/**
 * What a personal token may do: its user's grants, each lowered to the token's role, and for
 * a token made for one agent only the grants that reach that agent, narrowed to it. The cap
 * only ever takes away: the user's current grants are read on every check, so a role the
 * user loses is gone from their tokens too.
 */
export function capGrants(
  grants: readonly RoleGrant[],
  cap: { role: Role | null; agent: string | null },
): RoleGrant[] {
  return simplifyGrants(
    grants
      .filter((g) => cap.agent === null || g.agent === null || g.agent === cap.agent)
      .map((g) => ({
        role: cap.role === null ? g.role : lowerRole(g.role, cap.role),
        agent: cap.agent ?? g.agent,
      })),
  );
}

/** How a grant reads in lists and messages: `operator (global)`, `approver for demo`. */
export function describeGrant(grant: RoleGrant): string {
  return `${grant.role} ${grant.agent === null ? '(global)' : `for ${grant.agent}`}`;
}

/** A 403 unless `principal` meets `requirement`; `what` says what was refused ("create users"). */
export function assertAllowed(
  principal: Principal,
  requirement: Requirement,
  agent: string | null,
  what: string,
): void {
  if (!allows(principal, requirement, agent))
    throw new ForbiddenError(
      `${principalLabel(principal)} may not ${what}: that needs ${describeRequirement(requirement, agent)}. Nothing was changed.`,
    );
}
