import { randomUUID } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Db } from '../../db/connection.js';
import type { LlmRoles } from '../../llm/llm-client.js';
import { createFlywheelWorker, type FlywheelWorkerOptions } from '../../workers/flywheel-worker.js';
import { AIRLINE_SCENARIO, loadScenario, type Scenario } from '../simulator/scenario.js';
import { startSimulator, type SimulatorServer } from '../simulator/simulator-server.js';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import { loadTaxonomy } from '../../workers/load-taxonomy.js';
import { testSigner } from './test-decision-keys.js';
import { simulatedRoles } from './simulated-roles.js';
import { freePort, startMigratedDatabase, startTemporalServer } from './local-infrastructure.js';
import { testDataConverter } from './test-payload-encryption.js';
import { TEST_DECISION_KEYS } from './test-decision-keys.js';
import { seedSharedWeek } from './seeded-week.js';

export { freePort };

export interface TestStack {
  env: TestWorkflowEnvironment;
  db: Db;
  /** For a child process (the CLI) to connect to the same database. */
  databaseUrl: string;
  llm: LlmRoles;
  scenario: Scenario;
  simulator: SimulatorServer;
  taskQueue: string;
  /** A worker on the stack's task queue; `workflowBundle` and `identity` as a deploy would set them. */
  newWorker(options?: Pick<FlywheelWorkerOptions, 'workflowBundle' | 'identity'>): Promise<Worker>;
  teardown(): Promise<void>;
}

/**
 * A real Temporal dev server, a real embedded PostgreSQL, and the simulator. One per test
 * file.
 */
export async function startTestStack(options: { scenario?: Scenario } = {}): Promise<TestStack> {
  const database = await startMigratedDatabase('flywheel-test');
  const { db } = database;
  let env: TestWorkflowEnvironment | undefined;
  let simulator: SimulatorServer | undefined;
  try {
    const scenario = options.scenario ?? loadScenario(AIRLINE_SCENARIO);
    simulator = await startSimulator(scenario);
    const llm = simulatedRoles(simulator.url, db);
    env = await startTemporalServer(['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=60']);
    const theEnv = env;
    const theSimulator = simulator;
    const taskQueue = `test-${randomUUID()}`;
    return {
      env: theEnv,
      db,
      databaseUrl: database.url,
      llm,
      scenario,
      simulator: theSimulator,
      taskQueue,
      newWorker: (options = {}) =>
        createFlywheelWorker({
          ...options,
          connection: theEnv.nativeConnection,
          namespace: theEnv.namespace ?? 'default',
          taskQueue,
          deps: { db, llm, llmConcurrency: 8, taxonomy: loadTaxonomy() },
          dataConverter: testDataConverter(),
          decisionKeys: TEST_DECISION_KEYS,
          maxCachedWorkflows: 50,
        }),
      async teardown() {
        await theEnv.teardown();
        await theSimulator.close();
        await database.teardown();
      },
    };
  } catch (error) {
    await env?.teardown().catch(() => undefined);
    await simulator?.close().catch(() => undefined);
    await database.teardown().catch(() => undefined);
    throw error;
  }
}

/**
 * A test stack with the demo agent seeded (a week of traces) and the HTTP API running. The
 * tests run several cycles over that one week, each standing for a week of traffic with the
 * same failure modes, so by default a cycle may sample what an earlier one did
 * (`skipSampledBefore: false`); `skipSampledBefore: true` keeps the product's default.
 */
export async function startSeededStack(options: {
  traces: number;
  seed: number;
  skipSampledBefore?: boolean;
  /** Where the console links cycles in the Temporal Web UI (none by default). */
  temporalUiUrl?: string;
  /** The simulated world (default: the airline scenario). */
  scenario?: Scenario;
  /**
   * The API calls the simulated models itself (the teacher suggests coaching situations, the
   * agent re-runs a coaching's step) and still embeds locally; by default it calls none.
   */
  apiModels?: boolean;
}): Promise<{ stack: TestStack; api: ApiServer }> {
  const stack = await startTestStack(options.scenario ? { scenario: options.scenario } : {});
  await seedSharedWeek(stack, {
    traces: options.traces,
    seed: options.seed,
    skipSampledBefore: options.skipSampledBefore ?? false,
  });
  // The API signs decisions with the key the test workers trust.
  const api = await startApiServer(
    apiDeps(stack.db, stack.env.client, {
      decisionSigner: testSigner,
      taskQueue: stack.taskQueue,
      ...(options.temporalUiUrl ? { temporalUiUrl: options.temporalUiUrl } : {}),
      ...(options.apiModels ? { llm: { ...stack.llm, embedder: null } } : {}),
    }),
    0,
  );
  return { stack, api };
}

export async function stopSeededStack(s: { stack?: TestStack; api?: ApiServer }): Promise<void> {
  await s.api?.close();
  await s.stack?.teardown();
}

/** Only a real embedded PostgreSQL, migrated: for tests of storage and the HTTP API. */
export function startTestDatabase(): Promise<{ db: Db; url: string; teardown(): Promise<void> }> {
  return startMigratedDatabase('flywheel-db');
}
