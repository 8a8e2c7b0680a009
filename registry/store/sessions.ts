import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import type { RoleGrant } from '../../schemas/principal.js';
import { grantsOf } from './users.js';

/**
 * sessions: console sign-ins. The cookie holds a random secret; only its SHA-256 is stored,
 * next to a public id (`ses_…`) that lists, audit rows and revocation use. A session counts
 * while it is not revoked, not past expires_at, seen within the idle limit, and its user is
 * not disabled.
 */
type Q = Kysely<Database>;

export interface StoredSession {
  id: string;
  user: string;
  createdAt: Date;
  expiresAt: Date;
  lastSeenAt: Date;
  revokedAt: Date | null;
  userAgent: string | null;
  ip: string | null;
}

const COLUMNS = [
  'id',
  'user_id',
  'created_at',
  'expires_at',
  'last_seen_at',
  'revoked_at',
  'user_agent',
  'ip',
] as const;

function sessionOfRow(row: {
  id: string;
  user_id: string;
  created_at: Date;
  expires_at: Date;
  last_seen_at: Date;
  revoked_at: Date | null;
  user_agent: string | null;
  ip: string | null;
}): StoredSession {
  return {
    id: row.id,
    user: row.user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastSeenAt: row.last_seen_at,
    revokedAt: row.revoked_at,
    userAgent: row.user_agent,
    ip: row.ip,
  };
}

export async function insertSession(
  tx: Q,
  session: {
    id: string;
    secretSha256: string;
    userId: string;
    now: Date;
    expiresAt: Date;
    userAgent: string | null;
    ip: string | null;
  },
): Promise<void> {
  await tx
    .insertInto('sessions')
    .values({
      id: session.id,
      secret_sha256: session.secretSha256,
      user_id: session.userId,
      created_at: session.now,
      last_seen_at: session.now,
      expires_at: session.expiresAt,
      user_agent: session.userAgent,
      ip: session.ip,
    })
    .execute();
}

export async function findSession(db: Q, id: string): Promise<StoredSession | undefined> {
  const row = await db.selectFrom('sessions').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  return row && sessionOfRow(row);
}

/** The open sessions of a user, newest first. */
export async function openSessionsOf(db: Q, userId: string, now: Date): Promise<StoredSession[]> {
  const rows = await db
    .selectFrom('sessions')
    .select(COLUMNS)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map(sessionOfRow);
}

/** The session with this secret hash if it counts at `now`, with its user's grants. */
export async function activeSessionBySecretHash(
  db: Q,
  secretSha256: string,
  now: Date,
  idleMs: number,
): Promise<{ session: StoredSession; grants: RoleGrant[] } | null> {
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select([
      's.id',
      's.user_id',
      's.created_at',
      's.expires_at',
      's.last_seen_at',
      's.revoked_at',
      's.user_agent',
      's.ip',
    ])
    .where('s.secret_sha256', '=', secretSha256)
    .where('s.revoked_at', 'is', null)
    .where('s.expires_at', '>', now)
    .where('s.last_seen_at', '>', new Date(now.getTime() - idleMs))
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  return { session: sessionOfRow(row), grants: await grantsOf(db, row.user_id) };
}

/** Moves last_seen_at forward, at most once a minute per session (the idle limit needs no finer clock). */
export async function touchSession(db: Q, id: string, now: Date): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_seen_at: now })
    .where('id', '=', id)
    .where('last_seen_at', '<', new Date(now.getTime() - 60_000))
    .execute();
}

/** Revokes one session; false when it already was revoked (or does not exist). */
export async function markSessionRevoked(tx: Q, id: string, now: Date): Promise<boolean> {
  const result = await tx
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Revokes every open session of a user (disabled, password changed); how many there were. */
export async function revokeSessionsOf(tx: Q, userId: string, now: Date): Promise<number> {
  const result = await tx
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
