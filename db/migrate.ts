import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './connection.js';
import * as m0001 from './migrations/0001-initial.js';
import * as m0002 from './migrations/0002-optimizer-texts.js';
import * as m0003 from './migrations/0003-trace-partitions.js';
import * as m0004 from './migrations/0004-scoring-diagnosis.js';
import * as m0005 from './migrations/0005-ingest-performance.js';
import * as m0006 from './migrations/0006-annotation-queues.js';
import * as m0007 from './migrations/0007-datasets.js';
import * as m0008 from './migrations/0008-prompt-registry.js';
import * as m0010 from './migrations/0010-artifact-versions.js';
import * as m0011 from './migrations/0011-rollouts-approvals.js';
import * as m0012 from './migrations/0012-annotation-slices.js';
import * as m0013 from './migrations/0013-samples-by-trace.js';
import * as m0014 from './migrations/0014-scores-by-trace.js';
import * as m0015 from './migrations/0015-agent-display-names.js';
import * as m0016 from './migrations/0016-trace-viewer-lookups.js';
import * as m0017 from './migrations/0017-pending-span-events.js';
import * as m0018 from './migrations/0018-strata-index-trace-ids.js';
import * as m0019 from './migrations/0019-principals.js';
import * as m0020 from './migrations/0020-strata-index-user-ids.js';
import * as m0021 from './migrations/0021-online-evaluation.js';
import * as m0022 from './migrations/0022-coaching.js';
import * as m0026 from './migrations/0026-drift-input-embeddings.js';
import * as m0027 from './migrations/0027-coaching-candidates.js';
import * as m0028 from './migrations/0028-coaching-marks.js';
import * as m0029 from './migrations/0029-rollout-coaching.js';
import * as m0032 from './migrations/0032-coaching-threshold-calibration.js';
import * as m0033 from './migrations/0033-label-suggestions.js';

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
      '0006-annotation-queues': m0006,
      '0007-datasets': m0007,
      '0008-prompt-registry': m0008,
      '0010-artifact-versions': m0010,
      '0011-rollouts-approvals': m0011,
      '0012-annotation-slices': m0012,
      '0013-samples-by-trace': m0013,
      '0014-scores-by-trace': m0014,
      '0015-agent-display-names': m0015,
      '0016-trace-viewer-lookups': m0016,
      '0017-pending-span-events': m0017,
      '0018-strata-index-trace-ids': m0018,
      '0019-principals': m0019,
      '0020-strata-index-user-ids': m0020,
      '0021-online-evaluation': m0021,
      '0022-coaching': m0022,
      '0026-drift-input-embeddings': m0026,
      '0027-coaching-candidates': m0027,
      '0028-coaching-marks': m0028,
      '0029-rollout-coaching': m0029,
      '0032-coaching-threshold-calibration': m0032,
      '0033-label-suggestions': m0033,
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
