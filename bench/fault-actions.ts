import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import type { ApiProcess, FlywheelProcess, MultiProcessStack } from '../test/helpers/multi-process-stack.js';
import type { FaultKindName, PlannedFault } from './fault-schedule.js';

/**
 * The faults of bench:faults, done to a running multi-process stack: kill -9 of a worker or
 * API replica (a replacement is started, as an orchestrator would), a PostgreSQL restart and
 * a Temporal dev server kill -9 (each brought back on the same data and port by its
 * supervisor), pg_terminate_backend on every live session, and a burst of model faults.
 */

export interface InjectedFault {
  n: number;
  kind: FaultKindName;
  /** Epoch ms the fault struck. */
  at: number;
  detail: string;
  /** How long until the stack was whole again (the server back, the replacement polling). */
  recoveredMs: number | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (p: FlywheelProcess) => p.child.exitCode === null && p.child.signalCode === null;

async function until(check: () => Promise<boolean>, seconds: number): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(250);
  }
  return false;
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function temporalAnswers(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: '1s' });
  try {
    await connection.workflowService.getSystemInfo({});
    return true;
  } finally {
    await connection.close();
  }
}

export class FaultActions {
  /** Pids this bench killed on purpose; any other exit of a replica is a crash. */
  readonly killedPids = new Set<number>();
  /** Epoch ms of every kill -9 of a replica (for the paid-call accounting). */
  readonly killTimes: number[] = [];
  private replacements = 0;
  /** Model faults put on each role so far (the simulator's `injected` says how many struck). */
  private readonly armed = new Map<string, number>();
  private pendingWorker: Promise<unknown> | null = null;
  private pendingApi: Promise<unknown> | null = null;

  constructor(
    private readonly stack: MultiProcessStack,
    readonly workers: FlywheelProcess[],
    readonly apis: ApiProcess[],
    private readonly log: (line: string) => void,
  ) {}

  async inject(n: number, planned: PlannedFault): Promise<InjectedFault> {
    const at = Date.now();
    const done = (detail: string, recoveredAt: number | null): InjectedFault => ({
      n,
      kind: planned.kind,
      at,
      detail,
      recoveredMs: recoveredAt === null ? null : recoveredAt - at,
    });
    switch (planned.kind) {
      case 'worker-kill':
      case 'api-kill': {
        const kind = planned.kind === 'worker-kill' ? 'worker' : 'api';
        const pool: FlywheelProcess[] = kind === 'worker' ? this.workers : this.apis;
        // Keep one replica serving: with one left, wait for the replacement already starting.
        const pending = kind === 'worker' ? this.pendingWorker : this.pendingApi;
        if (pool.filter(alive).length < 2 && pending) await pending;
        const live = pool.filter(alive);
        const victim = live[Math.floor(planned.pick * live.length)]!;
        this.killedPids.add(victim.pid);
        this.killTimes.push(Date.now());
        victim.child.kill('SIGKILL');
        await victim.exited;
        const name = `${kind}-r${++this.replacements}`;
        const start =
          kind === 'worker'
            ? this.stack.startWorker(name).then((p) => this.workers.push(p))
            : this.stack.startApi(name).then((p) => this.apis.push(p));
        const tracked = start.then(
          () => undefined,
          (e: unknown) => this.log(`replacement ${name} did not start: ${String(e)}`),
        );
        if (kind === 'worker') this.pendingWorker = tracked;
        else this.pendingApi = tracked;
        return done(`kill -9 ${victim.name} (pid ${victim.pid}); ${name} started in its place`, null);
      }
      case 'postgres-restart': {
        const pid = Number(
          readFileSync(path.join(this.stack.postgresDataDir, 'postmaster.pid'), 'utf8').split('\n')[0],
        );
        // Fast shutdown, as a restart or a failover does: every session is cut at once.
        process.kill(pid, 'SIGINT');
        await until(() => {
          try {
            process.kill(pid, 0);
            return Promise.resolve(false);
          } catch {
            return Promise.resolve(true);
          }
        }, 60);
        const back = await until(() => postgresAnswers(this.stack.databaseUrl), 120);
        return done(`PostgreSQL (pid ${pid}) stopped; supervisor restarted it`, back ? Date.now() : null);
      }
      case 'temporal-restart': {
        const pid = Number(readFileSync(path.join(this.stack.temporalHome, 'temporal.pid'), 'utf8'));
        process.kill(pid, 'SIGKILL');
        await sleep(500);
        const back = await until(() => temporalAnswers(this.stack.temporalAddress), 120);
        return done(
          `kill -9 of the Temporal dev server (pid ${pid}); supervisor restarted it on its SQLite file`,
          back ? Date.now() : null,
        );
      }
      case 'pg-terminate': {
        const client = new pg.Client({ connectionString: this.stack.databaseUrl });
        client.on('error', () => undefined);
        try {
          await client.connect();
          const { rows } = await client.query<{ n: number }>(
            `select count(*)::int as n from (select pg_terminate_backend(pid) from pg_stat_activity
               where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend') t`,
          );
          return done(`pg_terminate_backend on ${rows[0]?.n ?? 0} live sessions`, Date.now());
        } finally {
          await client.end().catch(() => undefined);
        }
      }
      case 'llm-burst': {
        // One armed burst per role at a time: a request that met two overlapping bursts could
        // spend all of the client's attempts on them and end with a 5xx, after which the client
        // resamples at a raised temperature (openai-llm-client.ts), a different request whose
        // answer differs from the twin's by design. With the role's bursts in use, the burst
        // goes to a free role, or becomes slow answers (which never fail a request).
        const planned0 = planned.burst!;
        const armed = (role: string) =>
          (this.armed.get(role) ?? 0) > this.stack.simulator.injected.filter((f) => f.role === role).length;
        const roles = ['agent', 'judge', 'teacher', 'embedder'] as const;
        const free = [planned0.role, ...roles].find((r) => !armed(r));
        const b = free
          ? { ...planned0, role: free }
          : { ...planned0, kind: 'slow' as const, count: Math.min(planned0.count, 3) };
        this.armed.set(b.role, (this.armed.get(b.role) ?? 0) + b.count);
        this.stack.simulator.addFaults([
          {
            role: b.role,
            kind: b.kind,
            rate: 1,
            burst: b.count,
            times: b.count,
            retryAfterSeconds: 1,
            delayMs: 3000,
          },
        ]);
        return done(`the next ${b.count} ${b.role} calls answer ${b.kind}`, Date.now());
      }
    }
  }

  /** Waits for replacements still starting (at the end of the faulted phase). */
  async settle(): Promise<void> {
    await this.pendingWorker;
    await this.pendingApi;
  }
}
