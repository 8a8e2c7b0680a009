import type { Db } from '../db/connection.js';
import { assertAllowed, principalLabel, simplifyGrants, type Principal } from '../schemas/principal.js';
import { NotFoundError } from '../schemas/user-error.js';
import type { LoginThrottle } from './login-throttle.js';
import { SESSION_LIFETIME_MS, type PrincipalVerifier, type UserPrincipal } from './principal-service.js';
import { appendAudit } from './store/audit-log.js';
import { csrfTokenFor, newPublicId, newSecret, sha256 } from './store/secrets.js';
import {
  findSession,
  insertSession,
  markSessionRevoked,
  openSessionsOf,
  type StoredSession,
} from './store/sessions.js';
import { grantsOf } from './store/users.js';
import { authenticatePassword } from './user-service.js';

/**
 * Console sign-in. A session is created from a user name and password and lives in a cookie
 * whose value (`fws_…`) is the session's secret; the PrincipalVerifier checks it on each
 * request. Signing in and out are audited; failed sign-ins are counted by the throttle, not
 * written (they would let anyone fill the audit log).
 */

export { csrfTokenMatches } from './store/secrets.js';

export const SESSION_SECRET_PREFIX = 'fws_';

export interface NewSession {
  /** The cookie value: shown once, only its hash is stored. */
  secret: string;
  /** The public id (`ses_…`) for logout and lists. */
  sessionId: string;
  csrfToken: string;
  expiresAt: Date;
  principal: UserPrincipal;
}

/**
 * Signs `user` in with `password`. Wrong password, unknown user, no password and disabled
 * user give one generic 401 (see authenticatePassword); a throttled name or address a 429.
 */
export async function createSession(
  db: Db,
  user: string,
  password: string,
  context: {
    now: Date;
    ip?: string | null;
    userAgent?: string | null;
    throttle?: LoginThrottle;
    lifetimeMs?: number;
  },
): Promise<NewSession> {
  const id = await authenticatePassword(db, { user, password }, context);
  const secret = newSecret(SESSION_SECRET_PREFIX);
  const sessionId = newPublicId('ses_');
  const expiresAt = new Date(context.now.getTime() + (context.lifetimeMs ?? SESSION_LIFETIME_MS));
  const ip = context.ip?.slice(0, 64) ?? null;
  const grants = await db.transaction().execute(async (tx) => {
    await insertSession(tx, {
      id: sessionId,
      secretSha256: sha256(secret),
      userId: id,
      now: context.now,
      expiresAt,
      userAgent: context.userAgent?.slice(0, 512) ?? null,
      ip,
    });
    await appendAudit(tx, {
      actor: `user:${id}`,
      action: 'session.create',
      artifact: `user:${id}/session:${sessionId}`,
      detail: { ip, expiresAt },
    });
    return grantsOf(tx, id);
  });
  return {
    secret,
    sessionId,
    csrfToken: csrfTokenFor(secret),
    expiresAt,
    principal: { kind: 'user', id, grants: simplifyGrants(grants), via: 'session' },
  };
}

/**
 * Ends a session (sign-out, or an admin ending someone's). False when it was revoked
 * already. Pass the process's verifier so its cache forgets the session at once.
 */
export async function revokeSession(
  db: Db,
  sessionId: string,
  actor: Principal,
  options: { now?: Date; verifier?: PrincipalVerifier } = {},
): Promise<boolean> {
  const session = await findSession(db, sessionId);
  if (!session) throw new NotFoundError(`No session ${sessionId}. Nothing was changed.`);
  if (actor.kind !== 'user' || actor.id !== session.user)
    assertAllowed(actor, { role: 'admin' }, null, `end the sessions of ${session.user}`);
  const revoked = await db.transaction().execute(async (tx) => {
    if (!(await markSessionRevoked(tx, sessionId, options.now ?? new Date()))) return false;
    await appendAudit(tx, {
      actor: principalLabel(actor),
      action: 'session.revoke',
      artifact: `user:${session.user}/session:${sessionId}`,
      detail: {},
    });
    return true;
  });
  options.verifier?.forget(sessionId);
  return revoked;
}

/** A user's open sessions (their own, or anyone's for a global admin). */
export async function listSessions(
  db: Db,
  user: string,
  actor: Principal,
  now = new Date(),
): Promise<StoredSession[]> {
  if (actor.kind !== 'user' || actor.id !== user)
    assertAllowed(actor, { role: 'admin' }, null, `list the sessions of ${user}`);
  return openSessionsOf(db, user, now);
}
