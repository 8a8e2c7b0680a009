import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './database.js';

export type Db = Kysely<Database>;

// COPY needs a raw pg client, which Kysely does not expose; remember each Db's pool.
const pools = new WeakMap<Db, pg.Pool>();

export function poolOf(db: Db): pg.Pool {
  const pool = pools.get(db);
  if (!pool) throw new Error('This Kysely instance was not created by connectDatabase.');
  return pool;
}

// Keep numeric columns as numbers: bigserial ids stay strings (int8), but count(*) results
// are cast explicitly in queries, so nothing silently overflows.
export function connectDatabase(url: string, maxConnections = 10): Db {
  const pool = new pg.Pool({ connectionString: url, max: maxConnections });
  pool.on('error', () => {
    // An idle client lost its server (Postgres restarted); the pool replaces it on next use.
  });
  // A checked-out client has no listener of the pool's: when its server goes away mid-query
  // (postmaster exit, pg_terminate_backend, failover), pg emits 'error' on it, and an
  // unhandled 'error' event ends the whole process. The query itself rejects with the error
  // and the pool drops the broken client on release, so this listener only has to exist.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  pools.set(db, pool);
  return db;
}

/** Turns "connection refused" into one sentence a user can act on. */
export async function assertDatabaseReachable(db: Db, url: string): Promise<void> {
  try {
    await db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
  } catch (error) {
    const redacted = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Cannot reach PostgreSQL at ${redacted} (${reason}). Check DATABASE_URL, or unset it to use the embedded database that \`npm start\` runs.`,
    );
  }
}
