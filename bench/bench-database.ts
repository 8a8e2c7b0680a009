import { connectDatabase, type Db } from '../db/connection.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../db/embedded-database.js';
import { evictPageCache, residentBytes } from './page-cache.js';

/**
 * The benchmark's Postgres: started on a kept data directory so that the sampling phase
 * can restart it cold (a non-persistent embedded server deletes its files on stop).
 */
export class BenchDatabase {
  private server: EmbeddedDatabase | undefined;
  private pool: Db | undefined;

  constructor(
    readonly dataDir: string,
    private readonly port: number,
    /** Server settings, e.g. ['-c', 'shared_buffers=2GB']. */
    private readonly postgresFlags: string[],
  ) {}

  get db(): Db {
    if (!this.pool) throw new Error('The bench database is not running.');
    return this.pool;
  }

  get url(): string {
    if (!this.server) throw new Error('The bench database is not running.');
    return this.server.url;
  }

  async start(): Promise<void> {
    this.server = await startEmbeddedDatabase({
      dataDir: this.dataDir,
      port: this.port,
      persistent: true,
      postgresFlags: this.postgresFlags,
    });
    this.pool = connectDatabase(this.server.url, 12);
  }

  async stop(): Promise<void> {
    await this.pool?.destroy();
    await this.server?.stop();
    this.pool = undefined;
    this.server = undefined;
  }

  /**
   * Stops Postgres (a fast shutdown writes every dirty buffer out), drops the data
   * directory's pages from the OS page cache and starts it again: shared buffers and the
   * kernel's cache are both empty. Returns the MB of the directory still cached (≈ 0).
   */
  async restartCold(): Promise<number> {
    await this.stop();
    await evictPageCache(this.dataDir);
    const resident = await residentBytes(this.dataDir);
    await this.start();
    return Math.round(resident / 1e6);
  }
}
