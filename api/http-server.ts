import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection.js';
import { annotationItems, submitAnnotations, UserError } from './cycle-operations.js';
import { resolvePrompt } from './prompt-resolver.js';
import { ingestJsonl } from './trace-ingest.js';

export const MAX_BODY_BYTES = 16 * 1024 * 1024;

class PayloadTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new PayloadTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export interface ApiDeps {
  db: Db;
  temporal: Client;
}

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The HTTP API: health, JSONL trace ingest, prompt resolve and the annotation queue.
 * Routes are few and stable, so plain node:http keeps the dependency surface small.
 */
export async function startApiServer(deps: ApiDeps, port: number, host = '127.0.0.1'): Promise<ApiServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'GET' && url.pathname === '/health') {
      await deps.db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
      return send(res, 200, { ok: true });
    }
    if (req.method === 'POST' && url.pathname === '/api/traces') {
      const report = await ingestJsonl(deps.db, await readBody(req));
      return send(res, report.rejected.length > 0 ? 400 : 200, report);
    }
    if (
      req.method === 'GET' &&
      parts[0] === 'api' &&
      parts[1] === 'prompts' &&
      parts[3] === 'resolve' &&
      parts[2]
    ) {
      const unit = url.searchParams.get('unit');
      if (!unit)
        return send(res, 400, { error: 'Pass the unit key to bucket on: ?unit=<user or session id>' });
      const resolved = await resolvePrompt(deps.db, parts[2], unit);
      if (!resolved) return send(res, 404, { error: `Agent ${parts[2]} has no production prompt.` });
      // Short cache: weights move during a rollout, but a few seconds of staleness is harmless.
      return send(res, 200, resolved, { 'cache-control': 'max-age=5' });
    }
    if (parts[0] === 'api' && parts[1] === 'cycles' && parts[2] && parts[3] === 'annotations') {
      if (req.method === 'GET') return send(res, 200, { items: await annotationItems(deps.db, parts[2]) });
      if (req.method === 'POST') {
        let body: unknown;
        try {
          body = JSON.parse(await readBody(req));
        } catch (e) {
          if (e instanceof PayloadTooLarge) throw e;
          return send(res, 400, { error: 'The body is not valid JSON.' });
        }
        return send(res, 200, await submitAnnotations(deps.db, deps.temporal, parts[2], body));
      }
    }
    send(res, 404, { error: `No route ${req.method} ${url.pathname}` });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof PayloadTooLarge)
        return send(res, 413, { error: `Payload over the ${MAX_BODY_BYTES} byte limit; split the file.` });
      if (error instanceof UserError) return send(res, error.status, { error: error.message });
      send(res, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
