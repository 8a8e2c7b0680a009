import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { apiDeps, startApiServer, type ApiServer } from '../api/http-server.js';
import { connectDatabase, type Db } from '../db/connection.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../db/embedded-database.js';
import { migrateToLatest } from '../db/migrate.js';
import type { LlmRoles } from '../llm/llm-client.js';
import { findTemporalCli } from '../scripts/temporal-cli.js';
import { freePort } from '../test/helpers/test-stack.js';
import { InProcessSimulatorClient } from '../test/simulator/in-process-client.js';
import type { Scenario } from '../test/simulator/scenario.js';
import { SIMULATED_MODELS } from '../test/simulator/simulator-server.js';
import { createFlywheelWorker } from '../workers/flywheel-worker.js';
import { loadTaxonomy } from '../workers/load-taxonomy.js';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';
import { CountingLlmClient, type LlmUsage } from './counting-llm-client.js';

/**
 * What the whole bench:flywheel run shares: one Temporal dev server (the CLI binary, as the
 * integration tests start it), one embedded PostgreSQL, migrated, and one HTTP API. Each
 * (scenario, seed) gets its own agent, task queue and worker, whose model roles are the
 * simulator in-process behind counters (dependency injection through the worker's deps:
 * product code is unchanged and does not know).
 */
export interface FlywheelStack {
  db: Db;
  client: Client;
  api: ApiServer;
  /** A worker for one agent's cycles, with its own counted model roles. */
  startWorker(scenario: Scenario, taskQueue: string): Promise<PipelineWorker>;
  stop(): Promise<void>;
}

export interface PipelineWorker {
  usage(): Record<string, LlmUsage>;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

export async function startFlywheelStack(log: (line: string) => void): Promise<FlywheelStack> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const cli = findTemporalCli();
  if (!cli)
    throw new Error('Temporal CLI not found: run `npm install` (it provisions the CLI) or set TEMPORAL_CLI.');
  const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-bench-'));
  let database: EmbeddedDatabase | undefined;
  let env: TestWorkflowEnvironment | undefined;
  let db: Db | undefined;
  try {
    database = await startEmbeddedDatabase({
      dataDir: path.join(dir, 'pg'),
      port: await freePort(),
      persistent: false,
    });
    db = connectDatabase(database.url);
    await migrateToLatest(db);
    log('PostgreSQL up and migrated');
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: cli }, searchAttributes: [...SEARCH_ATTRIBUTES] },
    });
    log(`Temporal dev server up at ${env.address}`);
    const api = await startApiServer(apiDeps(db, env.client), 0);
    const taxonomy = loadTaxonomy();
    const running = new Set<PipelineWorker>();
    const theDb = db;
    const theEnv = env;
    const theDatabase = database;
    return {
      db: theDb,
      client: theEnv.client,
      api,
      async startWorker(scenario, taskQueue) {
        const role = (model: string) => new CountingLlmClient(new InProcessSimulatorClient(scenario, model));
        const roles = {
          agent: role(SIMULATED_MODELS.agent),
          judge: role(SIMULATED_MODELS.judge),
          teacher: role(SIMULATED_MODELS.teacher),
          embedder: role(SIMULATED_MODELS.embedder),
        };
        const llm: LlmRoles = roles;
        const worker: Worker = await createFlywheelWorker({
          connection: theEnv.nativeConnection,
          namespace: theEnv.namespace ?? 'default',
          taskQueue,
          deps: { db: theDb, llm, llmConcurrency: 8, taxonomy },
        });
        const run = worker.run();
        const handle: PipelineWorker = {
          usage: () => Object.fromEntries(Object.entries(roles).map(([name, c]) => [name, { ...c.usage }])),
          async stop() {
            running.delete(handle);
            if (worker.getState() === 'RUNNING') worker.shutdown();
            await run.catch(() => undefined);
          },
        };
        running.add(handle);
        return handle;
      },
      async stop() {
        for (const w of [...running]) await w.stop();
        await api.close();
        await theEnv.teardown();
        await theDb.destroy();
        await theDatabase.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await env?.teardown().catch(() => undefined);
    await db?.destroy().catch(() => undefined);
    await database?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
