import type { IncomingMessage } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection.js';
import {
  annotateItem,
  claimAnnotationItem,
  listQueueItems,
  listQueues,
  releaseAnnotationItem,
  submitQueueBatch,
  type BatchResult,
} from '../annotation/annotation-service.js';
import { annotationItems, submitAnnotations } from '../cycles/cycle-service.js';
import { queueDetails } from '../annotation/queue-details-service.js';
import { createScoreConfig, listScoreConfigs } from '../annotation/score-config-service.js';

export interface AnnotationRouteDeps {
  db: Db;
  temporal: Client;
}

export interface RouteResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** All stored: 200; some refused: 207 (multi-status, as Langfuse's batch ingestion answers). */
const batchStatus = (r: Pick<BatchResult, 'errors'>) => (r.errors.length > 0 ? 207 : 200);

/**
 * The annotation queue API: queues, items, claims, labels (single and batch) and score
 * configs, plus the pre-queue cycle route kept for older clients. Returns null for a path
 * it does not serve; errors are UserErrors the server maps to their status.
 */
export async function handleAnnotationRoute(
  deps: AnnotationRouteDeps,
  req: IncomingMessage,
  url: URL,
  parts: string[],
  readJson: () => Promise<unknown>,
): Promise<RouteResponse | null> {
  if (parts[0] !== 'api') return null;
  const [, resource, id, sub] = parts;
  const method = req.method ?? 'GET';
  const q = (name: string) => url.searchParams.get(name) ?? undefined;

  if (resource === 'queues') {
    if (!id && method === 'GET')
      return { status: 200, body: { queues: await listQueues(deps.db, q('agent')) } };
    if (id && !sub && method === 'GET') return { status: 200, body: await queueDetails(deps.db, id) };
    if (id && sub === 'items' && method === 'GET') {
      const filter = {
        ...(q('reviewer') ? { reviewer: q('reviewer') } : {}),
        ...(q('status') ? { status: q('status') } : {}),
      };
      return { status: 200, body: { items: await listQueueItems(deps.db, id, filter) } };
    }
    if (id && sub === 'annotations' && method === 'POST') {
      const result = await submitQueueBatch(deps.db, deps.temporal, id, await readJson());
      return { status: batchStatus(result), body: result };
    }
  }
  if (resource === 'items' && id && method === 'POST') {
    if (sub === 'claim')
      return { status: 200, body: await claimAnnotationItem(deps.db, id, await readJson()) };
    if (sub === 'release')
      return { status: 200, body: await releaseAnnotationItem(deps.db, id, await readJson()) };
    if (sub === 'annotations')
      return { status: 200, body: await annotateItem(deps.db, deps.temporal, id, await readJson()) };
  }
  if (resource === 'score-configs' && !id) {
    if (method === 'GET') {
      const options = {
        ...(q('agent') ? { agent: q('agent') } : {}),
        includeArchived: q('archived') === 'true',
      };
      return { status: 200, body: { scoreConfigs: await listScoreConfigs(deps.db, options) } };
    }
    if (method === 'POST') return { status: 201, body: await createScoreConfig(deps.db, await readJson()) };
  }
  // Before queues: GET lists a cycle's items, POST a reviewer's batch; both now go through the queue.
  if (resource === 'cycles' && id && sub === 'annotations') {
    if (method === 'GET') return { status: 200, body: { items: await annotationItems(deps.db, id) } };
    if (method === 'POST') {
      const result = await submitAnnotations(deps.db, deps.temporal, id, await readJson());
      return { status: batchStatus(result), body: result };
    }
  }
  return null;
}
