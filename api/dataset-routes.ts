import type { IncomingMessage } from 'node:http';
import type { Db } from '../db/connection.js';
import { diffVersions, listVersions, showVersion } from '../datasets/dataset-service.js';
import { lineageOf } from '../registry/lineage-service.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';

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
  if (parts[1] === 'lineage') {
    if (!parts[2]) throw new UserError('Name what to trace: GET /api/lineage/<id>.');
    const graph = await lineageOf(deps.db, parts[2]);
    if (!graph) throw new NotFoundError(`Nothing is recorded under "${parts[2]}".`);
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
}
