import { z } from 'zod';
import type { Db } from '../db/connection.js';
import {
  allows,
  assertAllowed,
  capGrants,
  describeGrant,
  hasRole,
  lowerRole,
  principalLabel,
  Role,
  UserId,
  type Principal,
  type RoleGrant,
} from '../schemas/principal.js';
import { formatIssues } from '../schemas/format-issues.js';
import { ForbiddenError, NotFoundError, UserError } from '../schemas/user-error.js';
import type { LoginThrottle } from './login-throttle.js';
import type { PrincipalVerifier } from './principal-service.js';
import { appendAudit } from './store/audit-log.js';
import { newPublicId, newSecret, sha256 } from './store/secrets.js';
import {
  findUserToken,
  insertUserToken,
  listUserTokens,
  markUserTokenRevoked,
  type StoredUserToken,
} from './store/user-tokens.js';
import { agentExists, findStoredUser } from './store/users.js';
import { authenticatePassword } from './user-service.js';

/**
 * Personal tokens: what people use from the CLI and CI. A token acts as its user with the
 * user's current grants, capped by the token's role and agent when it has them; it stops
 * counting when revoked, expired or its user is disabled. The plain token is returned once,
 * by the call that creates it; only its SHA-256 is stored.
 */

/** What a personal token starts with: tells it from an agent token (`fw_<agent>_…`) and to secret scanners. */
export const USER_TOKEN_PREFIX = 'fwu_';
/** How long the token `flywheel login` stores lasts. */
export const LOGIN_TOKEN_DAYS = 30;

export const UserTokenRequest = z.object({
  user: UserId,
  /** Caps the user's roles; null: the token acts with all of them. */
  role: Role.nullable().default(null),
  /** The one agent the token acts for; null: every agent the user's grants reach. */
  agent: z.string().min(1).nullable().default(null),
  label: z.string().max(200).default(''),
  expiresAt: z.date().nullable().default(null),
});
export type UserTokenRequest = z.input<typeof UserTokenRequest>;

export interface CreatedUserToken {
  id: string;
  /** The bearer token: shown once, never stored. */
  token: string;
  user: string;
  role: Role | null;
  agent: string | null;
  label: string;
  expiresAt: Date | null;
  /** What the token may do now: the user's grants under its cap. */
  grants: RoleGrant[];
}

export type UserTokenSummary = StoredUserToken;

const unknownToken = (id: string) =>
  new NotFoundError(
    `No personal token ${id}; flywheel token list --user <id> shows them. Nothing was changed.`,
  );

/** The token row an acting token principal came from, to keep what it creates within its own cap. */
async function capOfActor(db: Db, actor: Principal): Promise<StoredUserToken | null> {
  if (actor.kind !== 'user' || actor.via !== 'token' || actor.tokenId === undefined) return null;
  return (await findUserToken(db, actor.tokenId)) ?? null;
}

async function issue(
  db: Db,
  request: z.infer<typeof UserTokenRequest>,
  actorLabel: string,
  detail: Record<string, unknown>,
): Promise<CreatedUserToken> {
  const user = await findStoredUser(db, request.user);
  if (!user)
    throw new NotFoundError(
      `Unknown user "${request.user}": flywheel user list shows the users there are. No token was created.`,
    );
  if (user.disabledAt !== null)
    throw new UserError(
      `User "${request.user}" is disabled: enable them first. No token was created.`,
      'conflict',
    );
  if (request.agent !== null && !(await agentExists(db, request.agent)))
    throw new NotFoundError(
      `Unknown agent "${request.agent}": flywheel agent list shows the agents there are. No token was created.`,
    );
  const cap = { role: request.role, agent: request.agent };
  const grants = capGrants(user.grants, cap);
  // A cap the user does not reach would make a token that can do less than it says.
  if (request.role !== null ? !hasRole(user.grants, request.role, request.agent) : grants.length === 0)
    throw new UserError(
      `${request.user} does not hold ${request.role ?? 'any role'}${request.agent === null ? ' globally' : ` for ${request.agent}`} (they hold ${user.grants.map(describeGrant).join(', ') || 'no role'}). No token was created.`,
    );
  const id = newPublicId('utk_');
  const token = newSecret(USER_TOKEN_PREFIX);
  await db.transaction().execute(async (tx) => {
    await insertUserToken(tx, {
      id,
      userId: request.user,
      tokenSha256: sha256(token),
      role: request.role,
      agent: request.agent,
      label: request.label,
      createdBy: actorLabel,
      expiresAt: request.expiresAt,
    });
    await appendAudit(tx, {
      actor: actorLabel,
      action: 'user-token.create',
      artifact: `user:${request.user}/token:${id}`,
      detail: {
        role: request.role,
        agent: request.agent,
        label: request.label,
        expiresAt: request.expiresAt,
        ...detail,
      },
    });
  });
  return {
    id,
    token,
    user: request.user,
    role: request.role,
    agent: request.agent,
    label: request.label,
    expiresAt: request.expiresAt,
    grants,
  };
}

/**
 * Creates a personal token for `request.user`. People create their own; a global admin may
 * create one for anyone. A token made by a token stays within the maker's cap (role, agent
 * and expiry), so a narrow CI token cannot mint itself a wider one.
 */
export async function createUserToken(
  db: Db,
  request: UserTokenRequest,
  actor: Principal,
): Promise<CreatedUserToken> {
  const parsed = UserTokenRequest.safeParse(request);
  if (!parsed.success) throw new UserError(`${formatIssues(parsed.error)}. No token was created.`);
  const input = parsed.data;
  if (actor.kind !== 'user' || actor.id !== input.user)
    assertAllowed(actor, { role: 'admin' }, null, `create tokens for ${input.user}`);
  const maker = await capOfActor(db, actor);
  if (maker && actor.kind === 'user' && actor.id === input.user) {
    if (maker.agent !== null && input.agent !== null && input.agent !== maker.agent)
      throw new ForbiddenError(
        `This token acts only for ${maker.agent}, so the tokens it creates do too. No token was created.`,
      );
    input.agent ??= maker.agent;
    if (maker.role !== null)
      input.role = input.role === null ? maker.role : lowerRole(input.role, maker.role);
    if (maker.expiresAt !== null && (input.expiresAt === null || input.expiresAt > maker.expiresAt))
      input.expiresAt = maker.expiresAt;
  }
  return issue(db, input, principalLabel(actor), {});
}

/**
 * Signs in with a password and returns a new personal token (what `flywheel login` stores).
 * One call, so the CLI can later make it through the API unchanged. Errors are those of
 * authenticatePassword: one generic message, 429 when throttled.
 */
export async function loginForToken(
  db: Db,
  credentials: { user: string; password: string; label?: string },
  context: { now: Date; ip?: string | null; throttle?: LoginThrottle; days?: number },
): Promise<CreatedUserToken> {
  const user = await authenticatePassword(db, credentials, context);
  const days = context.days ?? LOGIN_TOKEN_DAYS;
  return issue(
    db,
    {
      user,
      role: null,
      agent: null,
      label: credentials.label ?? 'flywheel login',
      expiresAt: new Date(context.now.getTime() + days * 86_400_000),
    },
    `user:${user}`,
    { via: 'password' },
  );
}

/** A user's personal tokens (people see their own; a global admin anyone's, or everyone's without `user`). */
export async function listTokens(
  db: Db,
  filter: { user?: string },
  actor: Principal,
): Promise<UserTokenSummary[]> {
  if (allows(actor, { role: 'admin' })) return listUserTokens(db, filter.user);
  if (actor.kind !== 'user' || (filter.user !== undefined && filter.user !== actor.id))
    throw new ForbiddenError(
      `${principalLabel(actor)} may list only their own tokens: the tokens of ${filter.user ?? 'every user'} need the admin role globally.`,
    );
  return listUserTokens(db, actor.id);
}

/**
 * Revokes a personal token (its owner or a global admin); false when it was revoked already.
 * Pass the process's verifier so its cache forgets the token at once.
 */
export async function revokeToken(
  db: Db,
  id: string,
  actor: Principal,
  options: { now?: Date; verifier?: PrincipalVerifier } = {},
): Promise<boolean> {
  const token = await findUserToken(db, id);
  if (!token) throw unknownToken(id);
  if (actor.kind !== 'user' || actor.id !== token.user)
    assertAllowed(actor, { role: 'admin' }, null, `revoke the tokens of ${token.user}`);
  const revoked = await db.transaction().execute(async (tx) => {
    if (!(await markUserTokenRevoked(tx, id, options.now ?? new Date()))) return false;
    await appendAudit(tx, {
      actor: principalLabel(actor),
      action: 'user-token.revoke',
      artifact: `user:${token.user}/token:${id}`,
      detail: {},
    });
    return true;
  });
  options.verifier?.forget(id);
  return revoked;
}
