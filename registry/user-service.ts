import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../db/connection.js';
import {
  allows,
  assertAllowed,
  describeGrant,
  principalLabel,
  Role,
  RoleGrant,
  simplifyGrants,
  UserId,
  type Principal,
} from '../schemas/principal.js';
import { formatIssues } from '../schemas/format-issues.js';
import { ConflictError, NotFoundError, UserError } from '../schemas/user-error.js';
import { TooManyAttemptsError, type LoginThrottle } from './login-throttle.js';
import type { PrincipalVerifier } from './principal-service.js';
import { appendAudit } from './store/audit-log.js';
import { hashPassword, verifyPassword } from './store/password-hash.js';
import { revokeSessionsOf } from './store/sessions.js';
import {
  activeGlobalAdmins,
  agentExists,
  anyUserExists,
  deleteGrant,
  findStoredUser,
  insertGrant,
  insertUser,
  listStoredUsers,
  lockPeople,
  passwordOf,
  setPasswordHash,
  setUserDisabled,
  type StoredUser,
} from './store/users.js';

/**
 * People: users, their role grants and passwords. Every change takes the acting principal as
 * authentication established it (never a name from a request), checks it may make the change,
 * and writes the change and its audit row in one transaction. Managing people needs the admin
 * role: globally for users and global grants, for one agent to grant roles on that agent. The
 * last active global admin cannot be disabled or lose that role.
 */

export type UserSummary = StoredUser;

export const PASSWORD_MIN_LENGTH = 12;
const PASSWORD_MAX_LENGTH = 1024;
export const Password = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `a password has at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `a password has at most ${PASSWORD_MAX_LENGTH} characters`);

export const NewUserRequest = z.object({
  id: UserId,
  displayName: z.string().max(200).optional(),
  password: Password.optional(),
  grants: z.array(RoleGrant).default([]),
});
export type NewUserRequest = z.input<typeof NewUserRequest>;

export const GrantRequest = z.object({
  user: UserId,
  role: Role,
  agent: z.string().min(1).nullable().default(null),
});
export type GrantRequest = z.input<typeof GrantRequest>;

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UserError(`${formatIssues(parsed.error)}. Nothing was changed.`);
  return parsed.data;
}

const unknownUser = (id: string) =>
  new NotFoundError(
    `Unknown user "${id}": flywheel user list shows the users there are. Nothing was changed.`,
  );

async function assertAgentsExist(db: Db, grants: readonly RoleGrant[]): Promise<void> {
  for (const agent of new Set(grants.flatMap((g) => (g.agent === null ? [] : [g.agent]))))
    if (!(await agentExists(db, agent)))
      throw new NotFoundError(
        `Unknown agent "${agent}": flywheel agent list shows the agents there are. Nothing was changed.`,
      );
}

/** Throws unless someone other than `leaving` stays an active global admin. */
async function assertAdminRemains(tx: Db, leaving: string, what: string): Promise<void> {
  const admins = await activeGlobalAdmins(tx);
  if (admins.includes(leaving) && admins.length === 1)
    throw new ConflictError(
      `${what} would leave no active global admin: grant another user the admin role first (flywheel user grant <id> --role admin). Nothing was changed.`,
    );
}

export async function createUser(db: Db, request: NewUserRequest, actor: Principal): Promise<UserSummary> {
  const input = parse(NewUserRequest, request);
  assertAllowed(actor, { role: 'admin' }, null, 'create users');
  const grants = simplifyGrants(input.grants);
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  await db.transaction().execute(async (tx) => {
    await lockPeople(tx);
    if (await findStoredUser(tx, input.id))
      throw new ConflictError(`User "${input.id}" exists already (flywheel user list). Nothing was changed.`);
    await assertAgentsExist(tx, grants);
    await insertUser(tx, {
      id: input.id,
      displayName: input.displayName ?? '',
      passwordHash,
      createdBy: principalLabel(actor),
    });
    for (const grant of grants)
      await insertGrant(tx, { userId: input.id, grant, createdBy: principalLabel(actor) });
    await appendAudit(tx, {
      actor: principalLabel(actor),
      action: 'user.create',
      artifact: `user:${input.id}`,
      detail: { displayName: input.displayName ?? '', password: passwordHash !== null, grants },
    });
  });
  return (await findStoredUser(db, input.id))!;
}

/** Every user with their grants, by id. */
export function listUsers(db: Db): Promise<UserSummary[]> {
  return listStoredUsers(db);
}

export async function getUser(db: Db, id: string): Promise<UserSummary> {
  const user = await findStoredUser(db, id);
  if (!user) throw unknownUser(id);
  return user;
}

/**
 * Stops a user from acting: their tokens and sessions stop counting at once (each check
 * reads disabled_at) and their open sessions are revoked. False when already disabled. Pass
 * the process's verifier so its cache forgets the user at once (others within seconds).
 */
export async function disableUser(
  db: Db,
  id: string,
  actor: Principal,
  options: { now?: Date; verifier?: PrincipalVerifier } = {},
): Promise<boolean> {
  assertAllowed(actor, { role: 'admin' }, null, 'disable users');
  const now = options.now ?? new Date();
  const disabled = await db.transaction().execute(async (tx) => {
    await lockPeople(tx);
    if (!(await findStoredUser(tx, id))) throw unknownUser(id);
    await assertAdminRemains(tx, id, `Disabling ${id}`);
    if (!(await setUserDisabled(tx, id, now))) return false;
    const sessions = await revokeSessionsOf(tx, id, now);
    await appendAudit(tx, {
      actor: principalLabel(actor),
      action: 'user.disable',
      artifact: `user:${id}`,
      detail: { sessionsRevoked: sessions },
    });
    return true;
  });
  options.verifier?.forgetUser(id);
  return disabled;
}

/** Lets a disabled user act again (their unexpired, unrevoked tokens count again). False when not disabled. */
export async function enableUser(db: Db, id: string, actor: Principal): Promise<boolean> {
  assertAllowed(actor, { role: 'admin' }, null, 'enable users');
  return db.transaction().execute(async (tx) => {
    await lockPeople(tx);
    if (!(await findStoredUser(tx, id))) throw unknownUser(id);
    if (!(await setUserDisabled(tx, id, null))) return false;
    await appendAudit(tx, {
      actor: principalLabel(actor),
      action: 'user.enable',
      artifact: `user:${id}`,
      detail: {},
    });
    return true;
  });
}

/** Adds a grant; `added` is false when the user had exactly it already (nothing is written). */
export async function grantRole(
  db: Db,
  request: GrantRequest,
  actor: Principal,
): Promise<{ added: boolean; grants: RoleGrant[] }> {
  const { user, role, agent } = parse(GrantRequest, request);
  assertAllowed(
    actor,
    { role: 'admin' },
    agent,
    `grant roles${agent === null ? ' globally' : ` for ${agent}`}`,
  );
  return db.transaction().execute(async (tx) => {
    await lockPeople(tx);
    if (!(await findStoredUser(tx, user))) throw unknownUser(user);
    await assertAgentsExist(tx, [{ role, agent }]);
    const added = await insertGrant(tx, {
      userId: user,
      grant: { role, agent },
      createdBy: principalLabel(actor),
    });
    if (added)
      await appendAudit(tx, {
        actor: principalLabel(actor),
        action: 'user.grant',
        artifact: `user:${user}`,
        detail: { role, agent },
      });
    return { added, grants: (await findStoredUser(tx, user))!.grants };
  });
}

/** Removes exactly this grant (a global operator grant is not touched by revoking operator for one agent). */
export async function revokeRole(
  db: Db,
  request: GrantRequest,
  actor: Principal,
): Promise<{ removed: boolean; grants: RoleGrant[] }> {
  const { user, role, agent } = parse(GrantRequest, request);
  assertAllowed(
    actor,
    { role: 'admin' },
    agent,
    `revoke roles${agent === null ? ' globally' : ` for ${agent}`}`,
  );
  return db.transaction().execute(async (tx) => {
    await lockPeople(tx);
    const stored = await findStoredUser(tx, user);
    if (!stored) throw unknownUser(user);
    if (role === 'admin' && agent === null) await assertAdminRemains(tx, user, `Revoking admin from ${user}`);
    const removed = await deleteGrant(tx, { userId: user, grant: { role, agent } });
    if (!removed)
      throw new NotFoundError(
        `${user} does not hold ${describeGrant({ role, agent })}; they hold ${stored.grants.map(describeGrant).join(', ') || 'no role'}. Nothing was changed.`,
      );
    await appendAudit(tx, {
      actor: principalLabel(actor),
      action: 'user.revoke-role',
      artifact: `user:${user}`,
      detail: { role, agent },
    });
    return { removed, grants: (await findStoredUser(tx, user))!.grants };
  });
}

/**
 * Sets (or with `password: null` removes) a user's password and revokes their open sessions.
 * A global admin may set anyone's; people may set their own when they give the current one,
 * so a session left open on someone else's screen cannot lock its owner out.
 */
export async function setPassword(
  db: Db,
  request: { user: string; password: string | null; currentPassword?: string },
  actor: Principal,
  options: { now?: Date; verifier?: PrincipalVerifier } = {},
): Promise<void> {
  const user = parse(UserId, request.user);
  const password = request.password === null ? null : parse(Password, request.password);
  const self = actor.kind === 'user' && actor.id === user;
  if (!self) assertAllowed(actor, { role: 'admin' }, null, `set the password of ${user}`);
  else if (!allows(actor, { role: 'admin' })) {
    const stored = await passwordOf(db, user);
    if (
      request.currentPassword === undefined ||
      !(await verifyPassword(request.currentPassword, stored?.passwordHash ?? null))
    )
      throw new UserError(
        'The current password is wrong (or was not given). Nothing was changed.',
        'unauthorized',
      );
  }
  const passwordHash = password === null ? null : await hashPassword(password);
  await db.transaction().execute(async (tx) => {
    await lockPeople(tx);
    if (!(await findStoredUser(tx, user))) throw unknownUser(user);
    await setPasswordHash(tx, user, passwordHash);
    const sessions = await revokeSessionsOf(tx, user, options.now ?? new Date());
    await appendAudit(tx, {
      actor: principalLabel(actor),
      action: password === null ? 'user.password-remove' : 'user.password',
      artifact: `user:${user}`,
      detail: { sessionsRevoked: sessions },
    });
  });
  options.verifier?.forgetUser(user);
}

const WRONG_CREDENTIALS = 'Wrong user name or password.';

/**
 * Checks a user name and password; returns the user id. Unknown user, wrong password, no
 * password set and disabled user all give the same error after the same work (a scrypt
 * derivation), so neither the answer nor its timing tells which. With a throttle, a locked
 * name or address is refused (429) before anything is checked, and failures count toward it.
 */
export async function authenticatePassword(
  db: Db,
  credentials: { user: string; password: string },
  context: { now: Date; ip?: string | null; throttle?: LoginThrottle },
): Promise<string> {
  const attempt = { user: credentials.user, ip: context.ip ?? null };
  const wait = context.throttle?.retryAfter(attempt, context.now.getTime()) ?? 0;
  if (wait > 0) throw new TooManyAttemptsError(wait);
  const id = UserId.safeParse(credentials.user);
  const stored = id.success ? await passwordOf(db, id.data) : undefined;
  const usable = credentials.password.length <= PASSWORD_MAX_LENGTH;
  const matches = await verifyPassword(
    usable ? credentials.password : '',
    usable ? (stored?.passwordHash ?? null) : null,
  );
  if (!id.success || !stored || stored.disabled || !matches) {
    context.throttle?.failed(attempt, context.now.getTime());
    throw new UserError(WRONG_CREDENTIALS, 'unauthorized');
  }
  context.throttle?.succeeded(attempt);
  return id.data;
}

/** Who the first start creates, and how it is recorded. */
export const FIRST_ADMIN = 'admin';
const BOOTSTRAP_ACTOR = 'system:first-start';

/**
 * The first start of a deployment: when no user exists, creates `admin` with the admin role
 * globally and a random password, and returns them so the entry point prints them once. Later
 * starts (and other replicas starting at the same moment) find a user and return null.
 */
export async function ensureFirstAdmin(db: Db): Promise<{ user: string; password: string } | null> {
  const exists = await anyUserExists(db).catch((error: unknown) => {
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === '42P01')
      throw new Error(
        'The database has no users table: it is not migrated to this version yet. `flywheel worker` and `npm start` migrate on start.',
      );
    throw error;
  });
  if (exists) return null;
  const password = randomBytes(18).toString('base64url');
  const passwordHash = await hashPassword(password);
  return db.transaction().execute(async (tx) => {
    await lockPeople(tx);
    if (await anyUserExists(tx)) return null;
    await insertUser(tx, {
      id: FIRST_ADMIN,
      displayName: 'Administrator',
      passwordHash,
      createdBy: BOOTSTRAP_ACTOR,
    });
    await insertGrant(tx, {
      userId: FIRST_ADMIN,
      grant: { role: 'admin', agent: null },
      createdBy: BOOTSTRAP_ACTOR,
    });
    await appendAudit(tx, {
      actor: BOOTSTRAP_ACTOR,
      action: 'user.create',
      artifact: `user:${FIRST_ADMIN}`,
      detail: { grants: [{ role: 'admin', agent: null }], password: true, reason: 'no user existed' },
    });
    return { user: FIRST_ADMIN, password };
  });
}
