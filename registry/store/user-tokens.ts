import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { Role, type RoleGrant } from '../../schemas/principal.js';
import { grantsOf } from './users.js';

/**
 * user_tokens: personal access tokens. Only the SHA-256 of a token is stored; a token counts
 * only while it is not revoked, not expired and its user is not disabled, and it acts with
 * its user's grants as they are at that moment, capped by the token's role and agent.
 */
type Q = Kysely<Database>;

export interface StoredUserToken {
  id: string;
  user: string;
  role: Role | null;
  agent: string | null;
  label: string;
  createdAt: Date;
  createdBy: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const COLUMNS = [
  'id',
  'user_id',
  'role',
  'agent_id',
  'label',
  'created_at',
  'created_by',
  'expires_at',
  'last_used_at',
  'revoked_at',
] as const;

function tokenOfRow(row: {
  id: string;
  user_id: string;
  role: string | null;
  agent_id: string | null;
  label: string;
  created_at: Date;
  created_by: string;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}): StoredUserToken {
  // A cap this build cannot read counts as the lowest role, never as no cap.
  const role = row.role === null ? null : (Role.safeParse(row.role).data ?? 'viewer');
  return {
    id: row.id,
    user: row.user_id,
    role,
    agent: row.agent_id,
    label: row.label,
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

export async function insertUserToken(
  tx: Q,
  token: {
    id: string;
    userId: string;
    tokenSha256: string;
    role: Role | null;
    agent: string | null;
    label: string;
    createdBy: string;
    expiresAt: Date | null;
  },
): Promise<void> {
  await tx
    .insertInto('user_tokens')
    .values({
      id: token.id,
      user_id: token.userId,
      token_sha256: token.tokenSha256,
      role: token.role,
      agent_id: token.agent,
      label: token.label,
      created_by: token.createdBy,
      expires_at: token.expiresAt,
    })
    .execute();
}

export async function listUserTokens(db: Q, userId?: string): Promise<StoredUserToken[]> {
  let q = db.selectFrom('user_tokens').select(COLUMNS).orderBy('created_at').orderBy('id');
  if (userId !== undefined) q = q.where('user_id', '=', userId);
  return (await q.execute()).map(tokenOfRow);
}

export async function findUserToken(db: Q, id: string): Promise<StoredUserToken | undefined> {
  const row = await db.selectFrom('user_tokens').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  return row && tokenOfRow(row);
}

/** Marks the token revoked; false when it already was (or does not exist). */
export async function markUserTokenRevoked(tx: Q, id: string, now: Date): Promise<boolean> {
  const result = await tx
    .updateTable('user_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * The token with this hash if it counts at `now` (not revoked, not expired, user enabled),
 * with its user's current grants (uncapped: the caller applies the cap).
 */
export async function activeUserTokenByHash(
  db: Q,
  tokenSha256: string,
  now: Date,
): Promise<{ token: StoredUserToken; userGrants: RoleGrant[] } | null> {
  const row = await db
    .selectFrom('user_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select([
      't.id',
      't.user_id',
      't.role',
      't.agent_id',
      't.label',
      't.created_at',
      't.created_by',
      't.expires_at',
      't.last_used_at',
      't.revoked_at',
    ])
    .where('t.token_sha256', '=', tokenSha256)
    .where('t.revoked_at', 'is', null)
    .where((eb) => eb.or([eb('t.expires_at', 'is', null), eb('t.expires_at', '>', now)]))
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  return { token: tokenOfRow(row), userGrants: await grantsOf(db, row.user_id) };
}

/** Records use, at most once a minute per token (lists show "last used"; no write per request). */
export async function touchUserToken(db: Q, id: string, now: Date): Promise<void> {
  await db
    .updateTable('user_tokens')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) =>
      eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(now.getTime() - 60_000))]),
    )
    .execute();
}
