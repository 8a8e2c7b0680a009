import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { connectDatabase, type Db } from '../../db/connection.js';
import { startEmbeddedDatabase } from '../../db/embedded-database.js';
import { migrateToLatest } from '../../db/migrate.js';
import type { LlmRoles } from '../../llm/llm-client.js';
import { findTemporalCli } from '../../scripts/temporal-cli.js';
import { startTemporalDevServer, type DevServer } from '../../scripts/temporal-dev-server.js';
import { AIRLINE_SCENARIO, loadScenario, type Scenario } from '../simulator/scenario.js';
import { SIMULATED_MODELS, startSimulator, type SimulatorServer } from '../simulator/simulator-server.js';
import { simulatedRoles } from './simulated-roles.js';
import { freePort } from './local-infrastructure.js';
import { TEST_PAYLOAD_ENCRYPTION, testDataConverter } from './test-payload-encryption.js';
import { TEST_DECISION_KEY, TEST_DECISION_KEYS } from './test-decision-keys.js';

/*
 * The deployment shape of "N workers and N API replicas": one Temporal dev server, one
 * PostgreSQL, the simulator as the model server, and `flywheel worker` / `flywheel api`
 * processes spawned exactly as an operator runs them, configured only through their
 * environment. Each child is the node process itself (not a tsx launcher in front of it),
 * so kill -9 hits the process that holds the connections and the in-flight work.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface FlywheelProcess {
  name: string;
  kind: 'worker' | 'api';
  pid: number;
  /** What Temporal records as the worker identity of tasks this process ran (SDK default). */
  identity: string;
  child: ChildProcess;
  /** Resolves when the process has exited, with its code or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines it wrote (stdout and stderr), for failure messages. */
  output(): string;
}

export interface ApiProcess extends FlywheelProcess {
  url: string;
}

export interface MultiProcessStack {
  db: Db;
  databaseUrl: string;
  /** The postmaster's data folder (its pid is the first line of postmaster.pid). */
  postgresDataDir: string;
  temporalAddress: string;
  /** The Temporal dev server's home (its pid is in temporal.pid). */
  temporalHome: string;
  /** A client in this process, with the payload key the children share. */
  client: Client;
  simulator: SimulatorServer;
  scenario: Scenario;
  /** Model roles in this process (seeding and simulated users), on the same simulator. */
  llm: LlmRoles;
  taskQueue: string;
  startWorker(name: string): Promise<FlywheelProcess>;
  startApi(name: string): Promise<ApiProcess>;
  /** What the PostgreSQL and Temporal supervisors reported (with `superviseServers`). */
  serverLog: string[];
  teardown(): Promise<void>;
}

/** A child's environment: nothing Flywheel-related inherited from this shell, only what is given. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(FLYWHEEL_|TEMPORAL_|OPENAI_|DATABASE_URL$)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

function spawnFlywheel(
  name: string,
  kind: 'worker' | 'api',
  args: string[],
  env: NodeJS.ProcessEnv,
): FlywheelProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'scripts/flywheel.ts'), ...args],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (child.pid === undefined) throw new Error(`flywheel ${kind} ${name} did not start`);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    name,
    kind,
    pid: child.pid,
    identity: `${child.pid}@${hostname()}`,
    child,
    exited,
    output: () => lines.join('\n'),
  };
}

/** Stops a child the way an orchestrator does (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopProcess(p: FlywheelProcess, graceMs = 15_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

export async function startMultiProcessStack(options: {
  prefix: string;
  /**
   * Restart PostgreSQL when it dies, on the same data folder and port, as `flywheel dev`
   * does (the Temporal dev server is always restarted on its own SQLite file): for benches
   * that stop the servers under running processes.
   */
  superviseServers?: boolean;
}): Promise<MultiProcessStack> {
  const dir = mkdtempSync(path.join(tmpdir(), `${options.prefix}-`));
  const cleanups: (() => Promise<void>)[] = [
    () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  ];
  const children: FlywheelProcess[] = [];
  const teardown = async () => {
    await Promise.all(children.map((c) => stopProcess(c, 5_000)));
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  const serverLog: string[] = [];
  const report = (line: string) => serverLog.push(`${new Date().toISOString()} ${line}`);
  try {
    const postgresDataDir = path.join(dir, 'pg');
    const database = await startEmbeddedDatabase({
      dataDir: postgresDataDir,
      port: await freePort(),
      persistent: false,
      ...(options.superviseServers ? { onRestart: report } : {}),
    });
    cleanups.push(() => database.stop());
    const db = connectDatabase(database.url);
    cleanups.push(() => db.destroy());
    await migrateToLatest(db);

    const cli = findTemporalCli();
    if (!cli)
      throw new Error(
        'Temporal CLI not found: run `npm install` (it provisions the CLI) or set TEMPORAL_CLI.',
      );
    const temporalHome = path.join(dir, 'temporal');
    const server: DevServer = await startTemporalDevServer({
      cli,
      home: temporalHome,
      port: await freePort(),
      uiPort: await freePort(),
      log: report,
    });
    cleanups.push(() => server.stop());
    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, dataConverter: testDataConverter() });

    const scenario = loadScenario(AIRLINE_SCENARIO);
    const simulator = await startSimulator(scenario);
    cleanups.push(() => simulator.close());
    const llm = simulatedRoles(simulator.url, db);
    const taskQueue = `${options.prefix}-${process.pid}-${Date.now()}`;

    // Every process gets the same deployment settings; only the API holds the signing key,
    // the workers hold its public half, as in production.
    const common = {
      FLYWHEEL_HOME: path.join(dir, 'home'),
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: server.address,
      FLYWHEEL_TASK_QUEUE: taskQueue,
      FLYWHEEL_CODEC_KEYS: TEST_PAYLOAD_ENCRYPTION.keys.map((k) => `${k.id}:${k.key}`).join(','),
      FLYWHEEL_LLM_BASE_URL: simulator.url,
      FLYWHEEL_LLM_API_KEY: 'test',
      FLYWHEEL_AGENT_MODEL: SIMULATED_MODELS.agent,
      FLYWHEEL_JUDGE_MODEL: SIMULATED_MODELS.judge,
      FLYWHEEL_TEACHER_MODEL: SIMULATED_MODELS.teacher,
      FLYWHEEL_EMBEDDER_MODEL: SIMULATED_MODELS.embedder,
    };
    const verifyKeys = Object.entries(TEST_DECISION_KEYS)
      .map(([kid, key]) => `${kid}:${key}`)
      .join(',');

    const workerPollers = async (): Promise<string[]> => {
      const described = await connection.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: taskQueue },
        taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      });
      return (described.pollers ?? []).map((p) => p.identity ?? '');
    };

    const waitFor = async (p: FlywheelProcess, ready: () => Promise<boolean>, what: string) => {
      const deadline = Date.now() + 180_000;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      void p.exited.then((e) => (exit = e));
      while (Date.now() < deadline) {
        if (exit)
          throw new Error(
            `flywheel ${p.kind} ${p.name} exited (${exit.signal ?? exit.code}) before ${what}:\n${p.output()}`,
          );
        if (await ready().catch(() => false)) return;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`flywheel ${p.kind} ${p.name} not ${what} within 180 s:\n${p.output()}`);
    };

    return {
      db,
      databaseUrl: database.url,
      postgresDataDir,
      temporalAddress: server.address,
      temporalHome,
      client,
      simulator,
      scenario,
      llm,
      taskQueue,
      serverLog,
      async startWorker(name) {
        const p = spawnFlywheel(
          name,
          'worker',
          ['worker'],
          childEnv({ ...common, FLYWHEEL_DECISION_VERIFY_KEYS: verifyKeys }),
        );
        children.push(p);
        // Ready when it polls the task queue (the workflow bundle is built before that).
        await waitFor(p, async () => (await workerPollers()).includes(p.identity), 'polling its task queue');
        return p;
      },
      async startApi(name) {
        const port = await freePort();
        const p = spawnFlywheel(
          name,
          'api',
          ['api', '--port', String(port), '--workers', '1'],
          childEnv({
            ...common,
            FLYWHEEL_DECISION_SIGNING_KEY: `${TEST_DECISION_KEY.kid}:${TEST_DECISION_KEY.privateKey}`,
          }),
        );
        children.push(p);
        const url = `http://127.0.0.1:${port}`;
        await waitFor(p, async () => (await fetch(`${url}/health/ready`)).ok, 'ready');
        return { ...p, url };
      },
      teardown,
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}

/** The pid of a stack's Temporal dev server and of its PostgreSQL postmaster, for sampling. */
export function serverPids(stack: Pick<MultiProcessStack, 'postgresDataDir' | 'temporalHome'>): {
  postgres: number;
  temporal: number;
} {
  return {
    postgres: Number(readFileSync(path.join(stack.postgresDataDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
    temporal: Number(readFileSync(path.join(stack.temporalHome, 'temporal.pid'), 'utf8')),
  };
}
