import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { apiDeps, startApiServer, type ApiServer } from '../api/http-server.js';
import { situationEmbedderFor, type SituationEmbedder } from '../coaching/situation-embedder.js';
import type { Db } from '../db/connection.js';
import type { LlmRoles } from '../llm/llm-client.js';
import { startMigratedDatabase, startTemporalServer } from '../test/helpers/local-infrastructure.js';
import { testDataConverter } from '../test/helpers/test-payload-encryption.js';
import { TEST_DECISION_KEYS, testSigner } from '../test/helpers/test-decision-keys.js';
import { InProcessSimulatorClient } from '../test/simulator/in-process-client.js';
import type { Scenario } from '../test/simulator/scenario.js';
import { SIMULATED_MODELS } from '../test/simulator/simulator-server.js';
import { createFlywheelWorker } from '../workers/flywheel-worker.js';
import { loadTaxonomy } from '../workers/load-taxonomy.js';
import { CountingLlmClient, type LlmUsage } from './counting-llm-client.js';

/**
 * What the whole bench:flywheel run shares: one Temporal dev server (the CLI binary, as the
 * integration tests start it), one embedded PostgreSQL, migrated, and one HTTP API. Each
 * (scenario, seed) gets its own agent, task queue and worker, whose model roles are the
 * simulator in-process behind counters (dependency injection through the worker's deps:
 * product code is unchanged and does not know). The API embeds coaching situations and
 * recall queries with the same embedder model as the workers (as a deployment configures one
 * embedder for both), so recall at serve time, in the gate's replay and in the bench's
 * ground truth is the same recall.
 */
export interface FlywheelStack {
  db: Db;
  client: Client;
  api: ApiServer;
  /** The situation embedder of the API and the workers (the simulated embedder model). */
  embedder: SituationEmbedder;
  /** A worker for one agent's cycles, with its own counted model roles. */
  startWorker(scenario: Scenario, taskQueue: string): Promise<PipelineWorker>;
  stop(): Promise<void>;
}

export interface PipelineWorker {
  usage(): Record<string, LlmUsage>;
  stop(): Promise<void>;
}

export async function startFlywheelStack(
  log: (line: string) => void,
  /** The world the API's own model calls (coaching test, situation suggestions) answer for. */
  apiScenario: Scenario,
): Promise<FlywheelStack> {
  const database = await startMigratedDatabase('flywheel-bench');
  log('PostgreSQL up and migrated');
  let env: TestWorkflowEnvironment | undefined;
  try {
    env = await startTemporalServer();
    log(`Temporal dev server up at ${env.address}`);
    const { db } = database;
    const apiModel = (model: string) => new InProcessSimulatorClient(apiScenario, model);
    const apiModels: LlmRoles = {
      agent: apiModel(SIMULATED_MODELS.agent),
      judge: apiModel(SIMULATED_MODELS.judge),
      teacher: apiModel(SIMULATED_MODELS.teacher),
      embedder: apiModel(SIMULATED_MODELS.embedder),
    };
    const embedder = situationEmbedderFor(apiModels.embedder);
    const api = await startApiServer(
      apiDeps(db, env.client, { decisionSigner: testSigner, llm: apiModels }),
      0,
    );
    const taxonomy = loadTaxonomy();
    const running = new Set<PipelineWorker>();
    const theEnv = env;
    return {
      db,
      client: theEnv.client,
      api,
      embedder,
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
          deps: { db, llm, llmConcurrency: 8, taxonomy },
          dataConverter: testDataConverter(),
          decisionKeys: TEST_DECISION_KEYS,
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
        await database.teardown();
      },
    };
  } catch (error) {
    await env?.teardown().catch(() => undefined);
    await database.teardown().catch(() => undefined);
    throw error;
  }
}
