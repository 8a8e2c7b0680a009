import type { IncomingMessage } from 'node:http';
import type { Db } from '../db/connection.js';
import { listTraces, showTrace } from '../traces/trace-viewer-service.js';

/**
 * The trace viewer: GET /api/traces[?agent=&from=&to=&status=&outcome=&feedback=&cluster=
 * &promptName=&promptVersion=&q=&cursor=&limit=] and GET /api/traces/:id. POST /api/traces
 * (JSONL ingest) is answered before this in http-server.ts. Like the other GET /api routes
 * these read without authentication for now; the texts they return are PII-redacted.
 */
export async function handleTraceRoute(
  deps: { db: Db },
  req: IncomingMessage,
  url: URL,
  parts: string[],
): Promise<{ status: number; body: unknown } | null> {
  if (req.method !== 'GET' || parts[0] !== 'api' || parts[1] !== 'traces' || parts.length > 3) return null;
  if (parts.length === 2) return { status: 200, body: await listTraces(deps.db, url.searchParams) };
  return { status: 200, body: await showTrace(deps.db, parts[2]!) };
}
