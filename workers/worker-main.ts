import { DefaultLogger, Runtime } from '@temporalio/worker';
import { assertDatabaseReachable, connectDatabase } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';
import { createLlmRoles } from '../llm/llm-roles.js';
import type { AppConfig } from '../schemas/config.js';
import { createFlywheelWorker } from './flywheel-worker.js';
import { loadTaxonomy } from './load-taxonomy.js';
import { connectClient, connectNative } from './temporal-connection.js';
import { flywheelDataConverter } from './data-converter.js';
import { ensureRetentionSchedule } from '../traces/retention-schedule-service.js';
import { ensureOnlineEvaluationSchedule } from '../evaluation/online-evaluation-schedule-service.js';

/**
 * The schedules every deployment has (daily trace retention, online evaluation every 5 minutes). Each replica makes sure they
 * exist; one that cannot (a namespace without schedule permissions) still serves its queue.
 */
async function ensureSchedules(config: AppConfig): Promise<void> {
  try {
    const client = await connectClient(config.temporal);
    try {
      const { created } = await ensureRetentionSchedule(client, config.temporal.taskQueue);
      if (created) console.log('flywheel worker: created the daily trace retention schedule');
      const online = await ensureOnlineEvaluationSchedule(client, config.temporal.taskQueue);
      if (online.created) console.log('flywheel worker: created the online evaluation schedule');
    } finally {
      await client.connection.close();
    }
  } catch (error) {
    console.error(
      `flywheel worker: could not create the trace retention or online evaluation schedule (${error instanceof Error ? error.message : String(error)}); traces are kept until flywheel traces retention runs, and online evaluation does not run.`,
    );
  }
}

/**
 * A standalone worker process for running at scale (N replicas against any Temporal
 * cluster and PostgreSQL). Unlike `flywheel dev` it starts nothing else: it needs
 * DATABASE_URL and model endpoints configured.
 */
export async function runWorker(config: AppConfig, llmConcurrency = config.llmConcurrency): Promise<void> {
  if (!config.databaseUrl)
    throw new Error(
      'DATABASE_URL is required for `flywheel worker` (only `flywheel dev` runs an embedded database).',
    );
  if (!config.models)
    throw new Error(
      'No model endpoint configured: set FLYWHEEL_LLM_BASE_URL and FLYWHEEL_<ROLE>_MODEL for agent, judge and teacher (and optionally embedder).',
    );
  const taxonomy = loadTaxonomy(config.taxonomyFile);
  // Refuses to start with no key unless FLYWHEEL_CODEC=off says plain payloads are intended.
  const dataConverter = flywheelDataConverter(config.temporal.payloadEncryption);
  if (!config.temporal.payloadEncryption.encrypt)
    console.warn(
      'flywheel worker: WARNING payload encryption is off (FLYWHEEL_CODEC=off): workflow inputs and results, traces and reviewer names included, are stored in Temporal in plain text.',
    );
  // Without a key every approval and rollout action would be refused, and cycles would wait
  // for approvers until their deadline: better not to start.
  const decisionKeys = config.decisions.verify;
  if (Object.keys(decisionKeys).length === 0)
    throw new Error(
      "No decision verification key: set FLYWHEEL_DECISION_VERIFY_KEYS to the API's public key(s) (<key id>:<public key>, see `flywheel decision-key new`); the workers verify every approval and rollout action with them.",
    );
  Runtime.install({ logger: new DefaultLogger('INFO') });
  const db = connectDatabase(config.databaseUrl);
  try {
    await assertDatabaseReachable(db, config.databaseUrl);
    await migrateToLatest(db);
    const connection = await connectNative(config.temporal);
    const worker = await createFlywheelWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      deps: { db, llm: createLlmRoles(config.models, db), llmConcurrency, taxonomy },
      dataConverter,
      decisionKeys,
    });
    await ensureSchedules(config);
    // Runtime traps SIGINT/SIGTERM and drains the worker; run() resolves after that.
    await worker.run();
    await connection.close();
  } finally {
    await db.destroy();
  }
}
