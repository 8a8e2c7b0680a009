import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { Role, sortGrants, type RoleGrant } from '../../schemas/principal.js';

/**
 * users and user_role_grants. Changes that read before they write (the "an active global
 * admin remains" rule, "no user exists yet" for the first admin) run in a transaction that
 * first takes lockPeople, so two of them never interleave. Passwords arrive here hashed.
 */
type Q = Kysely<Database>;

export interface StoredUser {
  id: string;
  displayName: string;
  hasPassword: boolean;
  disabledAt: Date | null;
  createdAt: Date;
  createdBy: string;
  grants: RoleGrant[];
}

/** Serialises changes to people for the rest of the transaction (an advisory lock, not a table lock). */
export async function lockPeople(tx: Q): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('flywheel.people'))`.execute(tx);
}

/** Rows as RoleGrants, in list order; a role this build does not know (a newer writer) is left out rather than guessed. */
function grantsOfRows(rows: readonly { role: string; agent_id: string | null }[]): RoleGrant[] {
  return sortGrants(
    rows.flatMap((r) => {
      const role = Role.safeParse(r.role);
      return role.success ? [{ role: role.data, agent: r.agent_id }] : [];
    }),
  );
}

export async function grantsOf(db: Q, userId: string): Promise<RoleGrant[]> {
  return grantsOfRows(
    await db
      .selectFrom('user_role_grants')
      .select(['role', 'agent_id'])
      .where('user_id', '=', userId)
      .execute(),
  );
}

export async function listStoredUsers(db: Q, ids?: readonly string[]): Promise<StoredUser[]> {
  if (ids?.length === 0) return [];
  let users = db
    .selectFrom('users')
    .select(['id', 'display_name', 'password_hash', 'disabled_at', 'created_at', 'created_by'])
    .orderBy('id');
  if (ids) users = users.where('id', 'in', ids);
  const rows = await users.execute();
  if (rows.length === 0) return [];
  const grants = await db
    .selectFrom('user_role_grants')
    .select(['user_id', 'role', 'agent_id'])
    .where(
      'user_id',
      'in',
      rows.map((r) => r.id),
    )
    .execute();
  return rows.map((r) => ({
    id: r.id,
    displayName: r.display_name,
    hasPassword: r.password_hash !== null,
    disabledAt: r.disabled_at,
    createdAt: r.created_at,
    createdBy: r.created_by,
    grants: grantsOfRows(grants.filter((g) => g.user_id === r.id)),
  }));
}

export async function findStoredUser(db: Q, id: string): Promise<StoredUser | undefined> {
  return (await listStoredUsers(db, [id]))[0];
}

/** What signing in checks: the hash (null: no password) and whether the user may act. */
export async function passwordOf(
  db: Q,
  id: string,
): Promise<{ passwordHash: string | null; disabled: boolean } | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['password_hash', 'disabled_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row && { passwordHash: row.password_hash, disabled: row.disabled_at !== null };
}

export async function anyUserExists(db: Q): Promise<boolean> {
  return (await db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
}

export async function agentExists(db: Q, agent: string): Promise<boolean> {
  return (
    (await db.selectFrom('agents').select('id').where('id', '=', agent).executeTakeFirst()) !== undefined
  );
}

export async function insertUser(
  tx: Q,
  user: { id: string; displayName: string; passwordHash: string | null; createdBy: string },
): Promise<void> {
  await tx
    .insertInto('users')
    .values({
      id: user.id,
      display_name: user.displayName,
      password_hash: user.passwordHash,
      created_by: user.createdBy,
    })
    .execute();
}

/** Adds the grant; false when the user already had exactly it. */
export async function insertGrant(
  tx: Q,
  args: { userId: string; grant: RoleGrant; createdBy: string },
): Promise<boolean> {
  const result = await tx
    .insertInto('user_role_grants')
    .values({
      user_id: args.userId,
      role: args.grant.role,
      agent_id: args.grant.agent,
      created_by: args.createdBy,
    })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** Removes exactly this grant; false when the user did not have it. */
export async function deleteGrant(tx: Q, args: { userId: string; grant: RoleGrant }): Promise<boolean> {
  let q = tx
    .deleteFrom('user_role_grants')
    .where('user_id', '=', args.userId)
    .where('role', '=', args.grant.role);
  q =
    args.grant.agent === null ? q.where('agent_id', 'is', null) : q.where('agent_id', '=', args.grant.agent);
  const result = await q.executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Sets or clears disabled_at; false when it already was in that state. */
export async function setUserDisabled(tx: Q, id: string, at: Date | null): Promise<boolean> {
  let q = tx.updateTable('users').set({ disabled_at: at }).where('id', '=', id);
  q = at === null ? q.where('disabled_at', 'is not', null) : q.where('disabled_at', 'is', null);
  return Number((await q.executeTakeFirst()).numUpdatedRows) > 0;
}

export async function setPasswordHash(tx: Q, id: string, passwordHash: string | null): Promise<void> {
  await tx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).execute();
}

/** Users who are not disabled and hold admin for every agent. */
export async function activeGlobalAdmins(db: Q): Promise<string[]> {
  const rows = await db
    .selectFrom('user_role_grants as g')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .select('u.id')
    .where('g.role', '=', 'admin')
    .where('g.agent_id', 'is', null)
    .where('u.disabled_at', 'is', null)
    .orderBy('u.id')
    .execute();
  return rows.map((r) => r.id);
}
