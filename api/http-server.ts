import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyCookie from '@fastify/cookie';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { Db } from '../db/connection.js';
import { isDatabaseUnavailable } from '../db/database-unavailable.js';
import { isTemporalUnavailable } from '../workers/temporal-unavailable.js';
import { createTraceWriter } from '../traces/trace-storage-service.js';
import type { TraceWriter } from '../traces/store/trace-writer.js';
import { encodeRpcStatus } from '../traces/otlp-protobuf.js';
import type { DecisionSigner } from '../release/decision-signing-service.js';
import { RoutingSnapshots } from '../release/routing-snapshot-service.js';
import { CoachingIndexes } from '../coaching/coaching-index-service.js';
import { CoachingRecall } from '../coaching/coaching-recall-service.js';
import { situationEmbedderFor } from '../coaching/situation-embedder.js';
import type { LlmRoles } from '../llm/llm-client.js';
import { UserError } from '../schemas/user-error.js';
import { hasRole, type Principal } from '../schemas/principal.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { DEFAULT_MAX_BODY_BYTES, parseJsonBody, readBody } from './request-body.js';
import {
  forbidden,
  permitted,
  requirementsOf,
  type ApiRoute,
  type RouteAnswer,
  type RouteRequest,
} from './api-route.js';
import {
  assertCsrfToken,
  createAuthenticator,
  SESSION_COOKIE,
  type Authenticator,
  type RequestSession,
} from './authentication.js';
import { apiRouteTable } from './route-table.js';
import { mediaType } from './ingest-routes.js';
import { codecCors } from './codec-cors.js';
import { createPrincipalVerifier, type PrincipalVerifier } from '../registry/principal-service.js';
import { LoginThrottle, TooManyAttemptsError } from '../registry/login-throttle.js';
import { clientPayloadCodec } from '../workers/codec-server.js';

export { DEFAULT_MAX_BODY_BYTES } from './request-body.js';

export interface ApiDeps {
  db: Db;
  temporal: Client;
  writer: TraceWriter;
  /** Who a bearer token or session stands for; told of revocations so its cache forgets them. */
  principals: PrincipalVerifier;
  /** Failed console sign-ins, per user name and address: one per API process. */
  loginThrottle: LoginThrottle;
  /** The session cookie is `Secure`: people reach the API over HTTPS (config `web.cookieSecure`). */
  cookieSecure?: boolean;
  /** Browser origins allowed to call the codec endpoints with credentials (the Temporal Web UI). */
  codecOrigins?: readonly string[];
  /** Signs approvals and rollout actions for the authenticated person (the workers verify). */
  decisionSigner?: DecisionSigner;
  /** What the codec endpoints encode and decode with: the Temporal client's codec chain. */
  codec: PayloadCodec;
  maxBodyBytes?: number;
  now?: () => Date;
  /** The per-process prompt routing cache behind resolve (release/routing-snapshot-service.ts). */
  routing?: RoutingSnapshots;
  /**
   * The models the API calls itself: the embedder for coaching situations and recall (absent:
   * a local embedder), the agent model for `coaching test` (absent: it answers 503).
   */
  llm?: LlmRoles | null;
  /** The per-process coaching recall index (coaching/coaching-index-service.ts). */
  coaching?: CoachingRecall;
  /** The workers' task queue, where cycles started over the API run. */
  taskQueue?: string;
  /** Requests per second one token may send to ingest and to resolve (429 with Retry-After beyond). */
  rateLimits?: Partial<RateLimits>;
  /** The built web console to serve under /console/ (default console/dist). */
  consoleDir?: string;
  /** Where people open the Temporal Web UI: the console links each cycle there. */
  temporalUiUrl?: string;
}

export interface RateLimits {
  ingestPerSecond: number;
  resolvePerSecond: number;
}

/**
 * Per token, per API process. Ingest requests are batches (an exporter sends one every few
 * seconds per process); resolve is cached by clients for a second per unit, so a token past
 * these rates is a loop or an abuse, not traffic.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = { ingestPerSecond: 200, resolvePerSecond: 20_000 };

/**
 * The production wiring: one trace writer, one principal cache, one sign-in throttle and one
 * routing cache per API process.
 */
export function apiDeps(
  db: Db,
  temporal: Client,
  {
    routingRefreshMs,
    llm,
    ...options
  }: {
    maxBodyBytes?: number;
    routingRefreshMs?: number;
    llm?: LlmRoles | null;
    taskQueue?: string;
    rateLimits?: Partial<RateLimits>;
    cookieSecure?: boolean;
    codecOrigins?: readonly string[];
    decisionSigner?: DecisionSigner;
    temporalUiUrl?: string;
  } = {},
): ApiDeps {
  const routing = new RoutingSnapshots(db, routingRefreshMs ? { refreshMs: routingRefreshMs } : {});
  const coaching = new CoachingRecall(
    new CoachingIndexes(
      db,
      situationEmbedderFor(llm?.embedder ?? null),
      routingRefreshMs ? { refreshMs: routingRefreshMs } : {},
    ),
  );
  return {
    db,
    temporal,
    writer: createTraceWriter(db),
    principals: createPrincipalVerifier(db),
    loginThrottle: new LoginThrottle(),
    codec: clientPayloadCodec(temporal),
    routing,
    llm: llm ?? null,
    coaching,
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

function healthRoutes(deps: ApiDeps): ApiRoute[] {
  return [
    {
      method: 'GET',
      url: '/health/live',
      tag: 'health',
      summary: 'Liveness: the process answers.',
      auth: { public: true },
      handler: () => Promise.resolve({ status: 200, body: { ok: true } }),
    },
    {
      method: 'GET',
      url: '/health/ready',
      tag: 'health',
      summary: "Readiness: each dependency's state; 503 with Retry-After while one is away.",
      auth: { public: true },
      handler: async () => {
        const ready = await readiness(deps);
        return {
          status: ready.ok ? 200 : 503,
          body: ready,
          ...(ready.ok ? {} : { headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } }),
        };
      },
    },
    {
      method: 'GET',
      url: '/health',
      tag: 'health',
      summary: 'The original check, kept for existing probes: the database answers (503 when not).',
      auth: { public: true },
      handler: async () => {
        await deps.db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
        return { status: 200, body: { ok: true } };
      },
    },
  ];
}

/** The status, body and headers that answer an error, whichever layer threw it. */
function errorAnswer(
  error: unknown,
  limit: number,
): {
  status: number;
  body: { error: string; limit?: number; field?: string };
  headers: Record<string, string>;
} {
  if (error instanceof UserError && error.code === 'payload_too_large')
    return { status: error.status, body: { error: error.message, limit }, headers: { connection: 'close' } };
  if (error instanceof TooManyAttemptsError)
    return {
      status: error.status,
      body: { error: error.message },
      headers: { 'retry-after': String(error.retryAfterSeconds) },
    };
  // Every error a caller can act on answers with its own status.
  if (error instanceof UserError)
    return {
      status: error.status,
      body: { error: error.message, ...(error.field ? { field: error.field } : {}) },
      headers: {},
    };
  // Fastify's own client errors (a malformed URL, a body on a method that takes none).
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return { status, body: { error: error instanceof Error ? error.message : String(error) }, headers: {} };
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

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The declaration a Fastify route was made from; absent only on Fastify's own routes. */
    apiRoute?: ApiRoute;
  }
  interface FastifyRequest {
    principal?: Principal;
    routeAgent?: string | null;
    /** The query string, parsed once by the authorization hook for the handler too. */
    routeQuery?: URLSearchParams;
    session?: RequestSession | null;
  }
}

const queryOf = (req: FastifyRequest) => {
  const at = req.url.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : req.url.slice(at + 1));
};

/**
 * The API as a Fastify instance with every route of the table registered, ready to listen
 * (or to `inject` in tests). Routes come only from the table: the authentication hook
 * refuses any route registered without a declaration, so none can be added unprotected.
 */
export async function buildApi(
  deps: ApiDeps,
  {
    authenticator,
    beforeReady,
  }: { authenticator?: Authenticator; beforeReady?: (app: FastifyInstance) => void } = {},
): Promise<{ app: FastifyInstance; routes: ApiRoute[] }> {
  const limit = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const auth = authenticator ?? createAuthenticator(deps.principals);
  const routes = [...healthRoutes(deps), ...apiRouteTable(deps)];
  const app = Fastify({ logger: false, bodyLimit: limit, return503OnClosing: true });

  // Schemas document each route (OpenAPI); the services validate with the same zod objects
  // and keep their messages, which name the field and say what to send.
  app.setValidatorCompiler(() => (data: unknown) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  // One body reader for every content type: the size limit holds on the inflated size too.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    readBody(payload, limit).then(
      (body) => done(null, body),
      (error: Error) => done(error, undefined),
    );
  });

  // Parses the Cookie header before the authentication hook (registered below) reads it.
  await app.register(fastifyCookie);
  app.addHook('onRequest', (_req, reply, done) => {
    void reply.headers(SECURITY_HEADERS);
    done();
  });
  await app.register(fastifyRateLimit, {
    global: false,
    // After authentication (a global hook, so it runs first): the limit is per token.
    keyGenerator: (req) => (req.principal ? `${req.principal.kind}:${req.principal.id}` : req.ip),
  });
  const limits = { ...DEFAULT_RATE_LIMITS, ...deps.rateLimits };
  const rateLimitOf = (route: ApiRoute) =>
    requirementsOf(route).some((r) => 'scope' in r && r.scope === 'ingest')
      ? { max: limits.ingestPerSecond, timeWindow: 1000 }
      : route.url === '/api/prompts/:name/resolve'
        ? { max: limits.resolvePerSecond, timeWindow: 1000 }
        : undefined;
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Flywheel API',
        version: '1',
        description:
          'Trace ingest, prompt resolve, annotation, cycles, approvals and rollouts. Every route except /health* and sign-in needs `Authorization: Bearer <token>` or the console session cookie (POST /api/session; requests that change something then send X-CSRF-Token); each route says the role or agent-token scope it needs.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
  });

  // Every route comes from the table: one registered any other way has no declared role.
  app.addHook('onRoute', (options) => {
    if (!options.config?.apiRoute)
      throw new Error(
        `${String(options.method)} ${options.url} has no route declaration; add it to api/route-table.ts with the role it needs.`,
      );
  });

  // The Temporal Web UI calls the codec endpoints from its own origin: CORS, preflight included.
  const cors = codecCors(deps.codecOrigins ?? []);
  app.addHook('onRequest', (req, reply, done) => {
    if (!cors.applies(req.url)) return done();
    const answer = cors.answer(req.method, req.headers);
    void reply.headers(answer.headers);
    // A preflight is answered here: no route declares OPTIONS, and it carries no credentials.
    if (answer.status !== undefined) void reply.code(answer.status).send(answer.body);
    else done();
  });

  app.addHook('onRequest', async (req) => {
    const route = req.routeOptions.config.apiRoute;
    if (!route) return; // Fastify's 404 handler
    const requirements = requirementsOf(route);
    if (requirements.some((r) => 'public' in r)) return;
    const { principal, session } = await auth.authenticate(req);
    req.principal = principal;
    req.session = session;
    if (session && !route.csrfExempt) assertCsrfToken(req.method, req.headers, session);
    const query = queryOf(req);
    req.routeQuery = query;
    const params = (req.params ?? {}) as Record<string, string>;
    // Agent tokens act for their own agent; a route over one agent's data checks that agent.
    const agent = route.agent ? await route.agent({ params, query }) : null;
    req.routeAgent = agent;
    // A route whose agent is in the body, or that filters to the principal's grants, lets in a
    // person with the role for any agent (the handler narrows), besides whoever the plain check
    // lets in: an agent token with the scope, a global role.
    const allowed =
      permitted(principal, route, agent) ||
      ((route.agentInBody || route.filtersToGrants) &&
        requirements.some(
          (r) =>
            'role' in r &&
            principal.kind === 'user' &&
            principal.grants.some((g) => hasRole([g], r.role, g.agent)),
        ));
    if (!allowed) throw forbidden(route, agent);
  });

  app.setErrorHandler((error, req, reply) => {
    const answer = errorAnswer(error, limit);
    // OTLP/HTTP answers a protobuf request in protobuf, errors included (google.rpc.Status).
    if (
      req.routeOptions.config.apiRoute?.otlp &&
      mediaType({ headers: req.headers }) === 'application/x-protobuf'
    ) {
      void reply
        .code(answer.status)
        .headers({ ...answer.headers, 'content-type': 'application/x-protobuf' })
        .send(Buffer.from(encodeRpcStatus(answer.status, answer.body.error)));
    } else void reply.code(answer.status).headers(answer.headers).send(answer.body);
    // Stop reading the rest of an oversized upload; the client gets the answer first.
    if (answer.status === 413) req.raw.resume();
  });
  app.addHook('onClose', (_instance, done) => {
    deps.routing?.stop();
    done();
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `No route ${req.method} ${req.url.split('?')[0]}` });
  });

  routes.push(openApiRoute(() => app.swagger()));
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      config: { apiRoute: route, ...(rateLimitOf(route) ? { rateLimit: rateLimitOf(route) } : {}) },
      schema: {
        summary: route.summary,
        tags: [route.tag],
        ...(requirementsOf(route).some((r) => 'public' in r) ? { security: [] } : {}),
        description: `Needs: ${requirementsOf(route)
          .map((r) =>
            'public' in r ? 'nothing' : 'role' in r ? `role ${r.role}` : `agent token scope ${r.scope}`,
          )
          .join(' or ')}.`,
        ...(route.schema?.params ? { params: route.schema.params } : {}),
        ...(route.schema?.querystring ? { querystring: route.schema.querystring } : {}),
        ...(route.schema?.body ? { body: route.schema.body } : {}),
      },
      handler: async (req, reply) => {
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const principal = req.principal;
        const request: RouteRequest = {
          // Public routes have no principal; they never read it.
          principal: principal ?? { kind: 'user', id: 'anonymous', grants: [], via: 'token' },
          params: (req.params ?? {}) as Record<string, string>,
          query: req.routeQuery ?? queryOf(req),
          headers: req.headers,
          raw,
          json: (options) => {
            if (raw.length === 0) throw new UserError('The body is empty; send a JSON object.');
            return parseJsonBody(raw, options);
          },
          agent: req.routeAgent ?? null,
          requireAgent: (agent) => {
            if (!principal || !permitted(principal, route, agent)) throw forbidden(route, agent);
          },
          ip: req.ip,
          session: req.session ?? null,
        };
        const answer = await route.handler(request);
        return send(reply, answer);
      },
    });
  }
  beforeReady?.(app);
  await app.ready();
  return { app, routes };
}

/** The OpenAPI document of every route, generated from the route table's zod schemas. */
const openApiRoute = (document: () => unknown): ApiRoute => ({
  method: 'GET',
  url: '/api/openapi.json',
  tag: 'meta',
  summary: 'This API described as OpenAPI 3.',
  auth: [{ role: 'viewer' }, { scope: 'ingest' }, { scope: 'resolve' }, { scope: 'feedback' }],
  handler: () => Promise.resolve({ status: 200, body: document() }),
});

function send(reply: FastifyReply, answer: RouteAnswer) {
  void reply.code(answer.status);
  if (answer.headers) void reply.headers(answer.headers);
  if (answer.binary) return reply.type(answer.binary.contentType).send(Buffer.from(answer.binary.data));
  if (answer.json !== undefined) return reply.type('application/json').send(answer.json);
  if (answer.body === undefined) return reply.send();
  return reply.type('application/json').send(JSON.stringify(answer.body));
}

export interface ApiServer {
  url: string;
  /** Stops accepting; requests in flight get up to `drainMs` (default DRAIN_MS) to finish. */
  close(drainMs?: number): Promise<void>;
}

/** The HTTP API, listening on `host:port` (127.0.0.1 unless configured otherwise). */
export async function startApiServer(deps: ApiDeps, port: number, host = '127.0.0.1'): Promise<ApiServer> {
  const { app } = await buildApi(deps);
  await app.listen({ port, host });
  const server = app.server;
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
 * gives between SIGTERM and SIGKILL, and above any request the API serves in normal times
 * but one: a label suggestion waits for the teacher model up to 45 s, and one cut by a
 * shutdown is simply asked for again (the console shows that there is none meanwhile).
 */
export const DRAIN_MS = 10_000;
