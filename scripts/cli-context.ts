import type { Client } from '@temporalio/client';
import { connectDatabase, assertDatabaseReachable, type Db } from '../db/connection.js';
import type { AppConfig } from '../schemas/config.js';
import { connectClient } from '../workers/temporal-connection.js';
import { loadConfig, readRuntimeState } from './load-config.js';

/**
 * What a CLI command connects to: explicit environment first, then the stack a running
 * `flywheel dev` announced in .flywheel/runtime.json, then the defaults.
 */
export class CliContext {
  readonly config: AppConfig;
  private client?: Client;
  private db?: Db;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.config = loadConfig(env);
    const runtime = readRuntimeState(this.config);
    if (runtime) {
      if (!env.TEMPORAL_ADDRESS) this.config.temporal.address = runtime.temporalAddress;
      if (!env.DATABASE_URL) this.config.databaseUrl = runtime.databaseUrl;
    }
  }

  async temporal(): Promise<Client> {
    this.client ??= await connectClient(this.config.temporal);
    return this.client;
  }

  async database(): Promise<Db> {
    if (!this.db) {
      const url = this.config.databaseUrl;
      if (!url)
        throw new Error(
          'No database: start the stack with `npm start` (embedded PostgreSQL) or set DATABASE_URL.',
        );
      this.db = connectDatabase(url, 2);
      await assertDatabaseReachable(this.db, url);
    }
    return this.db;
  }

  async close(): Promise<void> {
    await this.db?.destroy();
    await this.client?.connection.close();
  }
}
