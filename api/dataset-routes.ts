import type { IncomingMessage } from 'node:http';
import type { Db } from '../db/connection.js';
import { diffVersions, listVersions, showVersion } from '../datasets/store/dataset-repository.js';
import { DatasetInputError } from '../datasets/store/dataset-version-writer.js';
import { lineageOf } from '../registry/store/lineage-repository.js';
import { UserError } from '../cycles/cycle-service.js';

export interface DatasetRouteAnswer {
  status: number;
  body: unknown;
}

/**
 * Read-only dataset and lineage routes:
 * GET /api/datasets[?agent=], GET /api/datasets/:versionId[?diff=<other version>],
 * GET /api/lineage/:id.
 */
export async function handleDatasetRoute(
  deps: { db: Db },
  req: IncomingMessage,
  url: URL,
  parts: string[],
): Promise<DatasetRouteAnswer | null> {
  if (parts[0] !== 'api' || (parts[1] !== 'datasets' && parts[1] !== 'lineage') || parts.length > 3)
    return null;
  if (req.method !== 'GET') return null;
  try {
    if (parts[1] === 'lineage') {
      if (!parts[2]) throw new UserError('Name what to trace: GET /api/lineage/<id>.');
      const graph = await lineageOf(deps.db, parts[2]);
      if (!graph) throw new UserError(`Nothing is recorded under "${parts[2]}".`, 404);
      return { status: 200, body: graph };
    }
    if (!parts[2])
      return {
        status: 200,
        body: { versions: await listVersions(deps.db, url.searchParams.get('agent') ?? undefined) },
      };
    const other = url.searchParams.get('diff');
    if (other) return { status: 200, body: await diffVersions(deps.db, other, parts[2]) };
    return { status: 200, body: await showVersion(deps.db, parts[2]) };
  } catch (e) {
    if (e instanceof DatasetInputError) throw new UserError(e.message, 404);
    throw e;
  }
}
