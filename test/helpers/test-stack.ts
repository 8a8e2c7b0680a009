import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectDatabase, type Db } from '../../db/connection.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../db/embedded-database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { createLlmRoles } from '../../llm/llm-roles.js';
import type { LlmRoles } from '../../llm/llm-client.js';
import { findTemporalCli } from '../../scripts/temporal-cli.js';
import { createFlywheelWorker } from '../../workers/flywheel-worker.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.js';
import { AIRLINE_SCENARIO, loadScenario, type Scenario } from '../simulator/scenario.js';
import { SIMULATED_MODELS, startSimulator, type SimulatorServer } from '../simulator/simulator-server.js';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import { seedDemoAgent } from '../../scripts/demo-seed.js';
import { loadTaxonomy } from '../../workers/load-taxonomy.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export interface TestStack {
  env: TestWorkflowEnvironment;
  db: Db;
  llm: LlmRoles;
  scenario: Scenario;
  simulator: SimulatorServer;
  taskQueue: string;
  newWorker(): Promise<Worker>;
  teardown(): Promise<void>;
}

let runtimeInstalled = false;

/**
 * A real Temporal dev server (the CLI binary, given as an existing path: cached downloads
 * fail offline), a real embedded PostgreSQL, and the simulator. One per test file.
 */
export async function startTestStack(): Promise<TestStack> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const cli = findTemporalCli();
  if (!cli)
    throw new Error('Temporal CLI not found: run `npm install` (it provisions the CLI) or set TEMPORAL_CLI.');
  const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-test-'));
  let database: EmbeddedDatabase | undefined;
  let env: TestWorkflowEnvironment | undefined;
  let simulator: SimulatorServer | undefined;
  try {
    database = await startEmbeddedDatabase({
      dataDir: path.join(dir, 'pg'),
      port: await freePort(),
      persistent: false,
    });
    const db = connectDatabase(database.url);
    await migrateToLatest(db);
    const scenario = loadScenario(AIRLINE_SCENARIO);
    simulator = await startSimulator(scenario);
    const endpoint = (model: string) => ({ baseUrl: simulator!.url, model, apiKey: 'test' });
    const llm = createLlmRoles(
      {
        agent: endpoint(SIMULATED_MODELS.agent),
        judge: endpoint(SIMULATED_MODELS.judge),
        teacher: endpoint(SIMULATED_MODELS.teacher),
        embedder: endpoint(SIMULATED_MODELS.embedder),
      },
      db,
    );
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: cli },
        searchAttributes: [...SEARCH_ATTRIBUTES],
        extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=60'],
      },
    });
    const taskQueue = `test-${randomUUID()}`;
    const stack: TestStack = {
      env,
      db,
      llm,
      scenario,
      simulator,
      taskQueue,
      newWorker: () =>
        createFlywheelWorker({
          connection: env!.nativeConnection,
          namespace: env!.namespace ?? 'default',
          taskQueue,
          deps: { db, llm, llmConcurrency: 8, taxonomy: loadTaxonomy() },
          maxCachedWorkflows: 50,
        }),
      async teardown() {
        await env?.teardown();
        await simulator?.close();
        await db.destroy();
        await database?.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return stack;
  } catch (error) {
    await env?.teardown().catch(() => undefined);
    await simulator?.close().catch(() => undefined);
    await database?.stop().catch(() => undefined);
    throw error;
  }
}

/** A test stack with the demo agent seeded (a week of traces) and the HTTP API running. */
export async function startSeededStack(options: {
  traces: number;
  seed: number;
}): Promise<{ stack: TestStack; api: ApiServer }> {
  const stack = await startTestStack();
  await seedDemoAgent(stack.db, stack.llm.agent, stack.scenario, {
    now: new Date(),
    traces: options.traces,
    days: 7,
    seed: options.seed,
  });
  const api = await startApiServer(apiDeps(stack.db, stack.env.client), 0);
  return { stack, api };
}

export async function stopSeededStack(s: { stack?: TestStack; api?: ApiServer }): Promise<void> {
  await s.api?.close();
  await s.stack?.teardown();
}

/** Only a real embedded PostgreSQL, migrated: for tests of storage and the HTTP API. */
export async function startTestDatabase(): Promise<{ db: Db; teardown(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-db-'));
  const database = await startEmbeddedDatabase({
    dataDir: path.join(dir, 'pg'),
    port: await freePort(),
    persistent: false,
  });
  const db = connectDatabase(database.url);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    await database.stop();
    throw error;
  }
  return {
    db,
    async teardown() {
      await db.destroy();
      await database.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
