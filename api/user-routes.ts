import { z } from 'zod';
import type { Db } from '../db/connection.js';
import type { PrincipalVerifier } from '../registry/principal-service.js';
import { listSessions, revokeSession } from '../registry/session-service.js';
import {
  createUser,
  disableUser,
  enableUser,
  getUser,
  GrantRequest,
  grantRole,
  listUsers,
  NewUserRequest,
  Password,
  revokeRole,
  setPassword,
} from '../registry/user-service.js';
import { formatIssues } from '../schemas/format-issues.js';
import { Role, UserId, type Principal } from '../schemas/principal.js';
import { UserError } from '../schemas/user-error.js';
import type { ApiRoute } from './api-route.js';
import type { ResourceAgents } from './resource-agent.js';

export interface UserRouteDeps {
  db: Db;
  /** Told of every change to a person's rights, so this process's cache forgets them at once. */
  principals: PrincipalVerifier;
  now?: () => Date;
}

const IdParam = z.object({ id: z.string() });
const GrantBody = GrantRequest.omit({ user: true });
const GrantQuery = z.object({ role: Role, agent: z.string().min(1).optional() });
const PasswordBody = z.object({
  /** Null removes the password (the user then signs in with tokens only). */
  password: Password.nullable(),
  /** Needed when you set your own and are not an admin. */
  currentPassword: z.string().max(10_000).optional(),
});
const UserQuery = z.object({ user: UserId.optional() });

/** `value` parsed by `schema`, or a 400 naming each field that is wrong. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UserError(`${formatIssues(parsed.error)}. Nothing was changed.`);
  return parsed.data;
}

/** The person acting; the route table lets only people through (their routes need a role). */
export function personOf(principal: Principal): string {
  if (principal.kind !== 'user')
    throw new UserError('This route is for people, not agent tokens.', 'forbidden');
  return principal.id;
}

/**
 * People and their console sessions over HTTP. Managing users needs the admin role globally;
 * granting or revoking a role for one agent needs admin for that agent. Everyone may list and
 * end their own sessions and set their own password (giving the current one). The services
 * check the same rules again and write an audit row naming `r.principal`.
 */
export function userRoutes(deps: UserRouteDeps, agents: ResourceAgents): ApiRoute[] {
  const now = () => deps.now?.() ?? new Date();
  const verifier = { verifier: deps.principals };
  return [
    {
      method: 'GET',
      url: '/api/users',
      tag: 'users',
      summary: 'Every user with their grants (no secrets: whether a password is set).',
      auth: { role: 'admin' },
      handler: async () => ({ status: 200, body: { data: await listUsers(deps.db) } }),
    },
    {
      method: 'POST',
      url: '/api/users',
      tag: 'users',
      summary: 'Create a user, optionally with a password (12+ characters) and role grants.',
      auth: { role: 'admin' },
      schema: { body: NewUserRequest },
      handler: async (r) => ({
        status: 201,
        body: await createUser(deps.db, parseInput(NewUserRequest, r.json()), r.principal),
      }),
    },
    {
      method: 'GET',
      url: '/api/users/:id',
      tag: 'users',
      summary: 'One user with their grants.',
      auth: { role: 'admin' },
      schema: { params: IdParam },
      handler: async (r) => ({ status: 200, body: await getUser(deps.db, r.params.id ?? '') }),
    },
    {
      method: 'POST',
      url: '/api/users/:id/disable',
      tag: 'users',
      summary: 'Disable a user: their tokens stop counting and their sessions end.',
      auth: { role: 'admin' },
      schema: { params: IdParam },
      handler: async (r) => {
        const id = r.params.id ?? '';
        const changed = await disableUser(deps.db, id, r.principal, { now: now(), ...verifier });
        return { status: 200, body: { user: id, disabled: true, changed } };
      },
    },
    {
      method: 'POST',
      url: '/api/users/:id/enable',
      tag: 'users',
      summary: 'Let a disabled user act again.',
      auth: { role: 'admin' },
      schema: { params: IdParam },
      handler: async (r) => {
        const id = r.params.id ?? '';
        const changed = await enableUser(deps.db, id, r.principal);
        return { status: 200, body: { user: id, disabled: false, changed } };
      },
    },
    {
      method: 'POST',
      url: '/api/users/:id/grants',
      tag: 'users',
      summary:
        'Grant a role, globally (`agent` null or absent: needs admin globally) or for one agent (needs admin for it).',
      auth: { role: 'admin' },
      agentInBody: true,
      schema: { params: IdParam, body: GrantBody },
      handler: async (r) => {
        const grant = parseInput(GrantBody, r.json());
        r.requireAgent(grant.agent);
        const user = r.params.id ?? '';
        const result = await grantRole(deps.db, { ...grant, user }, r.principal);
        deps.principals.forgetUser(user);
        return { status: result.added ? 201 : 200, body: { user, ...result } };
      },
    },
    {
      method: 'DELETE',
      url: '/api/users/:id/grants',
      tag: 'users',
      summary:
        'Revoke exactly one grant: ?role=R for a global grant, ?role=R&agent=A for one agent (needs admin for it).',
      auth: { role: 'admin' },
      agent: agents.byAgentQuery,
      schema: { params: IdParam, querystring: GrantQuery },
      handler: async (r) => {
        const query = parseInput(GrantQuery, Object.fromEntries(r.query));
        const user = r.params.id ?? '';
        const result = await revokeRole(
          deps.db,
          { user, role: query.role, agent: query.agent ?? null },
          r.principal,
        );
        deps.principals.forgetUser(user);
        return { status: 200, body: { user, ...result } };
      },
    },
    {
      method: 'PUT',
      url: '/api/users/:id/password',
      tag: 'users',
      summary:
        "Set a password (null removes it) and end the user's sessions: your own with `currentPassword`, anyone's as a global admin.",
      auth: { role: 'viewer' },
      // About the caller's own account: a role for any one agent lets them in; the service
      // refuses someone else's unless the caller is a global admin.
      filtersToGrants: true,
      schema: { params: IdParam, body: PasswordBody },
      handler: async (r) => {
        const body = parseInput(PasswordBody, r.json());
        const user = r.params.id ?? '';
        await setPassword(
          deps.db,
          {
            user,
            password: body.password,
            ...(body.currentPassword === undefined ? {} : { currentPassword: body.currentPassword }),
          },
          r.principal,
          { now: now(), ...verifier },
        );
        return { status: 200, body: { user, password: body.password !== null } };
      },
    },
    {
      method: 'GET',
      url: '/api/sessions',
      tag: 'sessions',
      summary: "Open console sessions: yours, or ?user=U's as a global admin.",
      auth: { role: 'viewer' },
      // About the caller's own account: a role for any one agent lets them in; the service
      // refuses someone else's unless the caller is a global admin.
      filtersToGrants: true,
      schema: { querystring: UserQuery },
      handler: async (r) => {
        const { user } = parseInput(UserQuery, Object.fromEntries(r.query));
        const sessions = await listSessions(deps.db, user ?? personOf(r.principal), r.principal, now());
        return { status: 200, body: { data: sessions } };
      },
    },
    {
      method: 'DELETE',
      url: '/api/sessions/:id',
      tag: 'sessions',
      summary: 'End a console session: your own, or anyone’s as a global admin.',
      auth: { role: 'viewer' },
      // About the caller's own account: a role for any one agent lets them in; the service
      // refuses someone else's unless the caller is a global admin.
      filtersToGrants: true,
      schema: { params: IdParam },
      handler: async (r) => {
        const id = r.params.id ?? '';
        const revoked = await revokeSession(deps.db, id, r.principal, { now: now(), ...verifier });
        return { status: 200, body: { session: id, revoked } };
      },
    },
  ];
}
