import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectDatabase, type Db } from '../../db/connection.js';
import { startEmbeddedDatabase } from '../../db/embedded-database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { findTemporalCli } from '../../scripts/temporal-cli.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.js';
import { testDataConverter } from './test-payload-encryption.js';

/*
 * The real components tests and benchmarks run against, started the same way everywhere:
 * an embedded PostgreSQL in a temporary folder, migrated, and a Temporal dev server from the
 * CLI binary (given as an existing path: cached downloads fail offline).
 */

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

/**
 * A real embedded PostgreSQL, migrated; teardown stops it and removes its folder. `url` is
 * for a child process (the CLI) to connect to the same database.
 */
export async function startMigratedDatabase(
  prefix: string,
): Promise<{ db: Db; url: string; teardown(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  let database: Awaited<ReturnType<typeof startEmbeddedDatabase>>;
  try {
    database = await startEmbeddedDatabase({
      dataDir: path.join(dir, 'pg'),
      port: await freePort(),
      persistent: false,
    });
  } catch (error) {
    remove();
    throw error;
  }
  const db = connectDatabase(database.url);
  const teardown = async () => {
    await db.destroy();
    await database.stop();
    remove();
  };
  try {
    await migrateToLatest(db);
  } catch (error) {
    await teardown().catch(() => undefined);
    throw error;
  }
  return { db, url: database.url, teardown };
}

let runtimeInstalled = false;

/**
 * A Temporal dev server with the project's search attributes; `extraArgs` go to the CLI. Its
 * `client` encrypts payloads with the test key: workers on it take `testDataConverter()`.
 */
export async function startTemporalServer(extraArgs: string[] = []): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const cli = findTemporalCli();
  if (!cli)
    throw new Error('Temporal CLI not found: run `npm install` (it provisions the CLI) or set TEMPORAL_CLI.');
  return TestWorkflowEnvironment.createLocal({
    client: { dataConverter: testDataConverter() },
    server: {
      executable: { type: 'existing-path', path: cli },
      searchAttributes: [...SEARCH_ATTRIBUTES],
      ...(extraArgs.length > 0 ? { extraArgs } : {}),
    },
  });
}
