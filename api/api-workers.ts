import cluster, { type Worker } from 'node:cluster';
import type { ApiServer } from './http-server.js';

/** What a worker tells the primary once its server listens. */
interface ListeningMessage {
  type: 'flywheel-api-listening';
  url: string;
}

const isListening = (m: unknown): m is ListeningMessage =>
  typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'flywheel-api-listening';

const SHUTDOWN = 'flywheel-api-shutdown';
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * V8's young generation in a forked API worker, in MB per semi-space. An OTLP export parses
 * a megabyte body into megabytes of objects that live across the request's database round
 * trips; with two requests in flight they outgrow V8's default (16 MB on 64-bit), and each
 * scavenge copies or promotes them. A command line that sets --max-semi-space-size wins.
 */
export const WORKER_SEMI_SPACE_MB = 64;

/** The Node options a worker is forked with: the primary's, plus the young generation size. */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  return execArgv.some((a) => a.startsWith('--max-semi-space-size'))
    ? [...execArgv]
    : [...execArgv, `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`];
}

export interface ApiWorkersOptions {
  /** API processes to run; 1 runs the server in this process. */
  workers: number;
  /** Starts one process's server (its own database pool and caches). */
  start: () => Promise<ApiServer>;
  /** Where a restarted worker is reported; the default writes to stderr. */
  onWorkerExit?: (pid: number | undefined, code: number | null) => void;
}

export interface ApiWorkers extends ApiServer {
  /** `worker` inside a forked worker process: its entry point has nothing else to do. */
  role: 'single' | 'primary' | 'worker';
}

/**
 * Runs the HTTP API in `workers` processes sharing one listening port (node:cluster hands
 * each new connection to the next worker). The API keeps no state beyond short caches, so N
 * workers behave as N replicas on one machine; trace ingest parses and maps JSON on the
 * CPU, and one Node process uses one core. The entry point calls this in every process: the
 * primary forks the workers, which run the same entry point and start a server each.
 * A worker that dies is replaced until `close()`.
 */
export async function runApiWorkers(options: ApiWorkersOptions): Promise<ApiWorkers> {
  if (!Number.isInteger(options.workers) || options.workers < 1)
    throw new Error(`API workers must be a whole number ≥ 1, got ${options.workers}.`);
  if (options.workers === 1 && cluster.isPrimary) return { ...(await options.start()), role: 'single' };
  if (cluster.isWorker) return runWorker(options.start);

  cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv) });
  let closing = false;
  const onExit =
    options.onWorkerExit ??
    ((pid, code) => console.error(`flywheel api: worker ${pid} exited with ${code}; starting another`));
  /** A worker's URL once it listens; one that dies after that is replaced, one that dies before fails the start. */
  const fork = (): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const worker = cluster.fork();
      let listened = false;
      worker.on('message', (m: unknown) => {
        if (!isListening(m)) return;
        listened = true;
        resolve(m.url);
      });
      worker.once('exit', (code) => {
        if (!listened) return reject(new Error(`An API worker exited with ${code} before listening.`));
        if (closing) return;
        onExit(worker.process.pid, code);
        fork().catch((error: unknown) => console.error(error));
      });
    });
  const urls = await Promise.all(Array.from({ length: options.workers }, fork));
  return {
    role: 'primary',
    url: urls[0]!,
    close: async () => {
      closing = true;
      const workers = Object.values(cluster.workers ?? {}).filter(
        (w): w is Worker => w !== undefined && !w.isDead(),
      );
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              // A worker that does not finish its requests in time is stopped anyway.
              const timer = setTimeout(() => w.process.kill('SIGKILL'), SHUTDOWN_GRACE_MS);
              w.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              w.send(SHUTDOWN);
            }),
        ),
      );
    },
  };
}

/**
 * A worker stops when the primary says so or goes away. It ignores SIGINT, which a
 * terminal sends to the whole process group: the primary handles Ctrl-C and stops the
 * workers itself, so none dies before the primary knows it is closing.
 */
async function runWorker(start: () => Promise<ApiServer>): Promise<ApiWorkers> {
  const server = start();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void server
      .then((s) => s.close())
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.on('message', (message) => {
    if (message === SHUTDOWN) stop();
  });
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', () => undefined);
  const started = await server;
  process.send?.({ type: 'flywheel-api-listening', url: started.url } satisfies ListeningMessage);
  return { ...started, role: 'worker' };
}
