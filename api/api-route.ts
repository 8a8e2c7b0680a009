import type { IncomingHttpHeaders } from 'node:http';
import type { ZodType } from 'zod';
import { allows, describeRequirement, type Principal, type Requirement } from '../schemas/principal.js';
import { ForbiddenError, UserError } from '../schemas/user-error.js';
import type { RequestSession } from './authentication.js';

/** What a handler sees of its request; the server builds it after authentication. */
export interface RouteRequest {
  principal: Principal;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The request body as received (inflated when gzip); empty when there was none. */
  raw: Buffer;
  /** The body parsed as JSON, nesting bounded; throws a 400 for a body that is not JSON. */
  json(options?: { checkDepth?: boolean }): unknown;
  /** The agent the route's `agent` resolver found, or null for a route over all agents. */
  agent: string | null;
  /**
   * For routes whose agent is in the body (`agentInBody`): 403 unless the principal holds
   * the route's role for `agent`, or globally when `agent` is null.
   */
  requireAgent(agent: string | null): void;
  ip: string;
  /** The console session the request authenticated with; null for a bearer token or a public route. */
  session: RequestSession | null;
}

/** What a handler answers; the server writes it. */
export interface RouteAnswer {
  status: number;
  body?: unknown;
  /** A body serialised already (resolve's hot path). */
  json?: string;
  /** A binary body (OTLP protobuf) with its content type. */
  binary?: { contentType: string; data: Uint8Array };
  headers?: Record<string, string>;
}

/**
 * One HTTP route: where, what it needs, what it accepts, what it does. Every route of the
 * API is declared in this shape (api/route-table.ts lists them all), so one test can walk
 * the table and check that each route refuses callers without the role it declares, and
 * the OpenAPI document is generated from the same declarations.
 */
export interface ApiRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Fastify path syntax: `/api/prompts/:name`. */
  url: string;
  summary: string;
  tag: string;
  /** Who may call it: any one of these. `{ public: true }` only for health and sign-in. */
  auth: Requirement | readonly Requirement[];
  /**
   * The agent whose data the request touches, from the path or query (looked up before the
   * body is read). Per-agent role grants and agent tokens count only for that agent; a
   * route without a resolver needs a global role (or the token's own agent, for scopes).
   */
  agent?: (request: { params: Record<string, string>; query: URLSearchParams }) => Promise<string | null>;
  /**
   * The 403 does not name the agent the resolver found: for ids of any kind (lineage), where
   * "needs the viewer role for agent X" would tell a caller without access that the id exists
   * and whose it is. Another agent's id then answers exactly like an id that names nothing.
   */
  agentUnnamed?: boolean;
  /**
   * The agent is named in the body: authentication only checks that the principal holds
   * the role for some agent, and the handler calls `requireAgent` once it read the body.
   */
  agentInBody?: boolean;
  /**
   * A list the handler filters to the agents the principal holds the role for: any grant
   * of the role lets the request in (a person with a role for one agent sees that agent).
   */
  filtersToGrants?: boolean;
  /** Zod schemas the OpenAPI document describes; the services validate with the same ones. */
  schema?: {
    params?: ZodType;
    querystring?: ZodType;
    body?: ZodType;
    response?: Record<number, ZodType>;
  };
  /** OTLP routes answer errors in the request's encoding (protobuf google.rpc.Status). */
  otlp?: boolean;
  /**
   * A POST that changes nothing (the codec's encode and decode): a console session may call it
   * without X-CSRF-Token, which the Temporal Web UI cannot send. A page elsewhere that makes the
   * browser send the cookie changes nothing and cannot read the answer (CORS).
   */
  csrfExempt?: boolean;
  handler(request: RouteRequest): Promise<RouteAnswer>;
}

export const requirementsOf = (route: Pick<ApiRoute, 'auth'>): readonly Requirement[] =>
  Array.isArray(route.auth) ? (route.auth as readonly Requirement[]) : [route.auth as Requirement];

/** Whether `principal` meets any of the route's requirements for `agent`. */
export function permitted(
  principal: Principal,
  route: Pick<ApiRoute, 'auth'>,
  agent: string | null,
): boolean {
  return requirementsOf(route).some((r) => allows(principal, r, agent));
}

/**
 * The 403 that says which role or scope the route needs, and for which agent unless the route
 * keeps that to itself (`agentUnnamed`).
 */
export function forbidden(
  route: Pick<ApiRoute, 'auth' | 'method' | 'url' | 'agentUnnamed'>,
  agent: string | null,
): ForbiddenError {
  const named = route.agentUnnamed ? null : agent;
  const needs = requirementsOf(route)
    .map((r) => describeRequirement(r, named))
    .join(', or ');
  return new ForbiddenError(`${route.method} ${route.url} needs ${needs}; ask an admin for it.`);
}

/** Fields that named the acting person before identity came from authentication. */
const IDENTITY_FIELDS = ['actor', 'reviewer', 'approver', 'createdBy', 'requestedBy', 'addedBy'] as const;

/**
 * The body with the acting person set from authentication. A body that still names
 * someone (`actor`, `reviewer`, `approver`) is refused rather than silently overridden, so
 * a client written for the old API learns why its field no longer counts.
 */
export function withIdentity(body: unknown, field: string, who: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new UserError('The body must be a JSON object.');
  const named = IDENTITY_FIELDS.filter((f) => f in body);
  if (named.length > 0)
    throw new UserError(
      `Remove ${named.map((f) => `"${f}"`).join(' and ')} from the body: who acts comes from your credentials (you are ${who}).`,
    );
  return { ...(body as Record<string, unknown>), [field]: who };
}
