import type { Db } from '../../db/connection.js';
import { createUser } from '../../registry/user-service.js';
import { createUserToken } from '../../registry/user-token-service.js';
import type { Principal, Role } from '../../schemas/principal.js';

/** Who sets up test users: a global admin that exists only as this principal. */
const SETUP: Principal = {
  kind: 'user',
  id: 'test-setup',
  grants: [{ role: 'admin', agent: null }],
  via: 'token',
};

/**
 * A person with `role` (globally, or for `agent`) and a personal token for them: what the
 * tests send as `Authorization: Bearer …` to the people's routes of the API.
 */
export async function personWithToken(
  db: Db,
  id: string,
  role: Role,
  agent: string | null = null,
): Promise<{ token: string; headers: Record<string, string> }> {
  await createUser(db, { id, grants: [{ role, agent }] }, SETUP);
  const { token } = await createUserToken(db, { user: id }, SETUP);
  return { token, headers: { authorization: `Bearer ${token}` } };
}

/** A person with `role` and a password, who signs in to the console (POST /api/session). */
export async function personWithPassword(
  db: Db,
  id: string,
  role: Role,
  agent: string | null = null,
): Promise<{ user: string; password: string }> {
  const password = `${id}-console-password`;
  await createUser(db, { id, password, grants: [{ role, agent }] }, SETUP);
  return { user: id, password };
}
