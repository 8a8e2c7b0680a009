import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './connection.js';
import * as m0001 from './migrations/0001-initial.js';
import * as m0002 from './migrations/0002-optimizer-texts.js';
import * as m0003 from './migrations/0003-trace-partitions.js';
import * as m0004 from './migrations/0004-scoring-diagnosis.js';
import * as m0005 from './migrations/0005-ingest-performance.js';

// Migrations are listed statically (not read from disk) so they work identically under
// tsx, a compiled build or a bundled CLI.
class StaticMigrationProvider implements MigrationProvider {
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve({
      '0001-initial': m0001,
      '0002-optimizer-texts': m0002,
      '0003-trace-partitions': m0003,
      '0004-scoring-diagnosis': m0004,
      '0005-ingest-performance': m0005,
    });
  }
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(
      `Database migration ${failed} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
