import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection.js';
import { isDatabaseUnavailable } from '../db/database-unavailable.js';
import { isTemporalUnavailable } from '../workers/temporal-unavailable.js';
import {
  createTokenVerifier,
  type TokenIdentity,
  type TokenScope,
  type TokenVerifier,
} from '../registry/agent-token-service.js';
import { createTraceWriter } from '../traces/trace-storage-service.js';
import type { TraceWriter } from '../traces/store/trace-writer.js';
import { handleAgentRoute } from './agent-routes.js';
import { authenticateBearer } from './bearer-auth.js';
import { logsPartialSuccess, tracePartialSuccess, unreadableBody } from './otlp-partial-success.js';
import { handleAnnotationRoute } from './annotation-routes.js';
import { handleDatasetRoute } from './dataset-routes.js';
import { attachFeedback } from '../traces/feedback-service.js';
import {
  decodeOtlpLogsProtobuf,
  decodeOtlpProtobuf,
  encodeExportResponse,
  encodeLogsExportResponse,
  encodeRpcStatus,
} from '../traces/otlp-protobuf.js';
import { handlePromptRoute, writeRouteAnswer } from './prompt-routes.js';
import { handleRolloutRoute } from './rollout-routes.js';
import { handleTraceRoute } from './trace-routes.js';
import { RoutingSnapshots } from '../release/routing-snapshot-service.js';
import {
  IMPORT_FORMATS,
  importTraces,
  ingestJsonl,
  ingestOtlp,
  ingestOtlpLogs,
  type ImportFormat,
} from '../traces/trace-ingest-service.js';
import { UserError } from '../schemas/user-error.js';
import { nestsDeeperThan, tooDeepMessage } from '../traces/json-depth.js';

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

const gunzipAsync = promisify(gunzip);

const payloadTooLarge = (limit: number) =>
  new UserError(`Payload over the ${limit} byte limit; split it into smaller batches.`, 'payload_too_large');

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw payloadTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw payloadTooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  if (req.headers['content-encoding'] !== 'gzip') return raw;
  // OTLP exporters gzip by default; the limit applies to the inflated size too.
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (e) {
    if (e instanceof RangeError || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw payloadTooLarge(limit);
    throw new UserError(
      'The body is marked gzip but does not inflate; send valid gzip or drop Content-Encoding.',
    );
  }
}

/**
 * The body as JSON. Nesting is bounded because what reads and stores the value recurses; OTLP
 * ingest skips the whole-body walk (`checkDepth: false`) and checks each span it cannot take
 * on its fast path instead.
 */
async function readJson(
  req: IncomingMessage,
  limit: number,
  { checkDepth = true }: { checkDepth?: boolean } = {},
): Promise<unknown> {
  const body = await readBody(req, limit);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new UserError(`The body is not valid JSON (${e instanceof Error ? e.message : String(e)}).`);
  }
  if (checkDepth && nestsDeeperThan(value)) throw new UserError(`${tooDeepMessage('The body')}.`);
  return value;
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
  writer: TraceWriter;
  tokens: TokenVerifier;
  maxBodyBytes?: number;
  now?: () => Date;
  /** The per-process prompt routing cache behind resolve (api/routing-snapshot.ts). */
  routing?: RoutingSnapshots;
}

/** The production wiring: one trace writer and one token cache per API process. */
export function apiDeps(
  db: Db,
  temporal: Client,
  { routingRefreshMs, ...options }: { maxBodyBytes?: number; routingRefreshMs?: number } = {},
): ApiDeps {
  const routing = new RoutingSnapshots(db, routingRefreshMs ? { refreshMs: routingRefreshMs } : {});
  return {
    db,
    temporal,
    writer: createTraceWriter(db),
    tokens: createTokenVerifier(db),
    routing,
    ...options,
  };
}

/** What a 503 asks callers to wait: about how long a Postgres restart or failover takes. */
const RETRY_AFTER_SECONDS = 5;
const CHECK_TIMEOUT_MS = 2000;

async function check(probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `unavailable: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Readiness: each dependency's state, probed now and in parallel. A load balancer takes the
 * replica out while any is away; liveness (`/health/live`) stays 200 so the replica is not
 * restarted for a fault that is not its own.
 */
async function readiness(deps: ApiDeps): Promise<{ ok: boolean; database: string; temporal: string }> {
  const [database, temporal] = await Promise.all([
    check(() => deps.db.selectNoFrom((eb) => eb.val(1).as('one')).execute()),
    check(() => deps.temporal.workflowService.getSystemInfo({})),
  ]);
  return { ok: database === 'ok' && temporal === 'ok', database, temporal };
}

/** The status, body and headers that answer an error, whichever layer threw it. */
function errorAnswer(
  error: unknown,
  limit: number,
): { status: number; body: { error: string; limit?: number }; headers: Record<string, string> } {
  if (error instanceof UserError && error.code === 'payload_too_large')
    return { status: error.status, body: { error: error.message, limit }, headers: { connection: 'close' } };
  // Every error a caller can act on answers with its own status.
  if (error instanceof UserError)
    return { status: error.status, body: { error: error.message }, headers: {} };
  // A dependency that is away is not the caller's fault and not ours: say when to retry.
  const away = isDatabaseUnavailable(error) ? 'database' : isTemporalUnavailable(error) ? 'Temporal' : null;
  if (away)
    return {
      status: 503,
      body: {
        error: `The ${away} is unavailable (${error instanceof Error ? error.message : String(error)}); nothing was changed by this request unless its answer said so. Retry in ${RETRY_AFTER_SECONDS} s.`,
      },
      headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
    };
  return {
    status: 500,
    body: { error: error instanceof Error ? error.message : String(error) },
    headers: {},
  };
}

export interface ApiServer {
  url: string;
  /** Stops accepting; requests in flight get up to `drainMs` (default DRAIN_MS) to finish. */
  close(drainMs?: number): Promise<void>;
}

/**
 * The HTTP API: health, JSONL trace ingest, prompt resolve and the annotation queue.
 * Routes are few and stable, so plain node:http keeps the dependency surface small.
 */
export async function startApiServer(deps: ApiDeps, port: number, host = '127.0.0.1'): Promise<ApiServer> {
  const limit = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const now = deps.now ?? (() => new Date());

  /** Bearer tokens are scoped to one agent; ingest and feedback act for that agent only. */
  const authenticate = (req: IncomingMessage, scope: TokenScope): Promise<TokenIdentity> =>
    authenticateBearer(deps.tokens, req.headers.authorization ?? '', scope);

  /** An OTLP body in either encoding, in the OTLP/JSON shape. */
  const readOtlpBody = async (
    req: IncomingMessage,
    type: string | undefined,
    decodeProtobuf: (raw: Uint8Array) => unknown,
    message: string,
  ): Promise<unknown> => {
    if (type === 'application/x-protobuf') {
      const raw = await readBody(req, limit);
      try {
        return decodeProtobuf(raw);
      } catch (e) {
        throw new UserError(
          `The body is not an OTLP ${message} protobuf (${e instanceof Error ? e.message : String(e)}).`,
        );
      }
    }
    if (type === 'application/json') return readJson(req, limit, { checkDepth: false });
    throw new UserError(
      `Send OTLP as application/json or application/x-protobuf, not ${type}.`,
      'unsupported_media_type',
    );
  };

  /**
   * OTLP/HTTP export, traces and logs. Per the OTLP spec, a request that decodes is answered
   * 200 even when some items were rejected: `partialSuccess` counts and names them, and an
   * exporter neither retries the batch nor drops what was kept. Only a body that is not an
   * export request at all is a 400. The answer is in the request's encoding.
   */
  const exportTraces = async (req: IncomingMessage, res: ServerResponse, type: string | undefined) => {
    const { agent } = await authenticate(req, 'ingest');
    const body = await readOtlpBody(req, type, decodeOtlpProtobuf, 'ExportTraceServiceRequest');
    const report = await ingestOtlp(deps, body, agent);
    const unreadable = unreadableBody(report, report.acceptedSpans);
    if (unreadable) throw new UserError(unreadable);
    const partialSuccess = tracePartialSuccess(report);
    if (type === 'application/x-protobuf') {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(encodeExportResponse(partialSuccess));
      return;
    }
    // Exporters read only partialSuccess; the rest is for people and scripts reading the answer.
    send(res, 200, {
      ...(partialSuccess ? { partialSuccess } : {}),
      acceptedSpans: report.acceptedSpans,
      newTraces: report.newTraces,
      updatedTraces: report.updatedTraces,
      errors: report.rejected,
    });
  };

  const exportLogs = async (req: IncomingMessage, res: ServerResponse, type: string | undefined) => {
    const { agent } = await authenticate(req, 'ingest');
    const body = await readOtlpBody(req, type, decodeOtlpLogsProtobuf, 'ExportLogsServiceRequest');
    const report = await ingestOtlpLogs(deps, body, agent);
    const unreadable = unreadableBody(report, report.acceptedLogRecords);
    if (unreadable) throw new UserError(unreadable);
    const partialSuccess = logsPartialSuccess(report);
    if (type === 'application/x-protobuf') {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(encodeLogsExportResponse(partialSuccess));
      return;
    }
    send(res, 200, {
      ...(partialSuccess ? { partialSuccess } : {}),
      acceptedLogRecords: report.acceptedLogRecords,
      attachedToSpans: report.attached,
      waitingForSpans: report.pending,
      errors: report.rejected,
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'GET' && url.pathname === '/health/live') return send(res, 200, { ok: true });
    if (req.method === 'GET' && url.pathname === '/health/ready') {
      const ready = await readiness(deps);
      return send(
        res,
        ready.ok ? 200 : 503,
        ready,
        ready.ok ? {} : { 'retry-after': String(RETRY_AFTER_SECONDS) },
      );
    }
    if (req.method === 'GET' && url.pathname === '/health') {
      // The original check, kept for existing probes: the database answers (503 when not).
      await deps.db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
      return send(res, 200, { ok: true });
    }
    if (req.method === 'POST' && (url.pathname === '/v1/traces' || url.pathname === '/v1/logs')) {
      const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim();
      const protobufRequest = type === 'application/x-protobuf';
      try {
        return await (url.pathname === '/v1/traces' ? exportTraces : exportLogs)(req, res, type);
      } catch (error) {
        // OTLP/HTTP answers a protobuf request in protobuf, errors included (google.rpc.Status).
        if (!protobufRequest) throw error;
        const answer = errorAnswer(error, limit);
        res.writeHead(answer.status, { 'content-type': 'application/x-protobuf', ...answer.headers });
        res.end(encodeRpcStatus(answer.status, answer.body.error));
        if (answer.status === 413) req.resume();
        return;
      }
    }
    if (req.method === 'POST' && url.pathname === '/api/traces') {
      const { agent } = await authenticate(req, 'ingest');
      const report = await ingestJsonl(deps, (await readBody(req, limit)).toString('utf8'), agent);
      return send(res, report.rejected.length > 0 ? 400 : 200, report);
    }
    if (req.method === 'POST' && url.pathname === '/api/import') {
      const { agent } = await authenticate(req, 'ingest');
      const format = url.searchParams.get('format') ?? 'jsonl';
      if (!(IMPORT_FORMATS as readonly string[]).includes(format))
        throw new UserError(`Unknown import format "${format}"; use one of ${IMPORT_FORMATS.join(', ')}.`);
      const text = (await readBody(req, limit)).toString('utf8');
      const report = await importTraces(deps, format as ImportFormat, text, {
        agent,
        now: now(),
        ...(url.searchParams.get('source') ? { source: url.searchParams.get('source') ?? '' } : {}),
        ...(url.searchParams.get('model') ? { model: url.searchParams.get('model') ?? '' } : {}),
      });
      return send(res, report.rejected.length > 0 ? 400 : 200, report);
    }
    if (req.method === 'POST' && url.pathname === '/api/feedback') {
      const { agent } = await authenticate(req, 'feedback');
      const report = await attachFeedback(deps.db, agent, await readJson(req, limit));
      return send(res, report.rejected.length > 0 ? 400 : 200, report);
    }
    const prompts = await handlePromptRoute(deps, req, url, parts, () => readJson(req, limit));
    if (prompts) return writeRouteAnswer(res, prompts);
    const annotation = await handleAnnotationRoute(deps, req, url, parts, () => readJson(req, limit));
    if (annotation) return send(res, annotation.status, annotation.body, annotation.headers);
    const rollout = await handleRolloutRoute(deps, req, parts, () => readJson(req, limit));
    if (rollout) return send(res, rollout.status, rollout.body);
    const datasets = await handleDatasetRoute(deps, req, url, parts);
    if (datasets) return send(res, datasets.status, datasets.body);
    const agents = await handleAgentRoute(deps, req, url, parts, () => readJson(req, limit));
    if (agents) return send(res, agents.status, agents.body);
    const traceView = await handleTraceRoute(deps, req, url, parts);
    if (traceView) return send(res, traceView.status, traceView.body);
    send(res, 404, { error: `No route ${req.method} ${url.pathname}` });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const answer = errorAnswer(error, limit);
      send(res, answer.status, answer.body, answer.headers);
      // Stop reading the rest of an oversized upload; the client gets the answer first.
      if (answer.status === 413) req.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: (drainMs = DRAIN_MS) =>
      new Promise<void>((resolve) => {
        deps.routing?.stop();
        // Drain: stop accepting, let requests in flight finish, drop idle keep-alive
        // connections now and whatever is still open after the bound.
        const force = setTimeout(() => server.closeAllConnections(), drainMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/**
 * How long shutdown waits for requests in flight. Below the 30 s a container runtime
 * gives between SIGTERM and SIGKILL, and above any request the API serves in normal times.
 */
export const DRAIN_MS = 10_000;
