import { z } from 'zod';

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
 * role grant counts only there. Without `agent` (lists, global settings) a per-agent grant
 * still lets a person read (the lists filter to their agents) but never change global state.
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
  if (requirement.role === 'viewer') return principal.grants.length > 0;
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
