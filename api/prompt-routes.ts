import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Db } from '../db/connection.js';
import type { WebhookSender } from '../notify/webhook-sender.js';
import {
  createPrompt,
  diffPrompt,
  labelPrompt,
  listPromptSummaries,
  rollbackPrompt,
  showPrompt,
} from '../registry/prompt-service.js';
import { chooseAnswer } from '../release/prompt-resolver.js';
import { RoutingSnapshots } from '../release/routing-snapshot-service.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';

export interface PromptRouteDeps {
  db: Db;
  /** The process's routing cache; one is made per deps object when absent. */
  routing?: RoutingSnapshots;
  webhook?: WebhookSender;
  /**
   * Cache-Control max-age of resolve answers (seconds, default 1). A client that honours it
   * (client/flywheel-client.ts does) sees a weight change at most max-age plus the routing
   * refresh bound (api/routing-snapshot.ts) after it was committed.
   */
  resolveMaxAgeSeconds?: number;
}

export interface RouteAnswer {
  status: number;
  body?: unknown;
  /** A body serialised already (resolve's hot path). */
  json?: string;
  headers?: Record<string, string>;
}

const fallbackRouting = new WeakMap<PromptRouteDeps, RoutingSnapshots>();

export function routingOf(deps: PromptRouteDeps): RoutingSnapshots {
  if (deps.routing) return deps.routing;
  let routing = fallbackRouting.get(deps);
  if (!routing) fallbackRouting.set(deps, (routing = new RoutingSnapshots(deps.db)));
  return routing;
}

export function writeRouteAnswer(res: ServerResponse, answer: RouteAnswer): void {
  const body = answer.json ?? (answer.body === undefined ? undefined : JSON.stringify(answer.body));
  res.writeHead(answer.status, {
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...answer.headers,
  });
  res.end(body);
}

function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (!header) return false;
  const value = Array.isArray(header) ? header.join(',') : header;
  return value.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

async function resolve(
  deps: PromptRouteDeps,
  req: IncomingMessage,
  url: URL,
  name: string,
): Promise<RouteAnswer> {
  const unit = url.searchParams.get('unit');
  if (!unit) throw new UserError('Pass the unit key to bucket on: ?unit=<user or session id>.');
  const snapshot = await routingOf(deps).get(name);
  if (!snapshot.exists)
    throw new NotFoundError(
      `No prompt named "${name}"; list them with GET /api/prompts or \`flywheel prompt list\`.`,
    );
  const answer = chooseAnswer(snapshot, snapshot.answers, unit);
  if (!answer)
    throw new NotFoundError(
      `Prompt "${name}" has no production version; label one: \`flywheel prompt label ${name} <version> production --actor <you>\`.`,
    );
  const headers = { etag: answer.etag, 'cache-control': `max-age=${deps.resolveMaxAgeSeconds ?? 1}` };
  if (etagMatches(req.headers['if-none-match'], answer.etag)) return { status: 304, headers };
  return { status: 200, json: answer.json, headers };
}

/**
 * The prompt registry over HTTP. Writes name the operator in the body (`actor`), like
 * annotation and approval requests do: agent tokens identify agents, not people.
 */
export async function handlePromptRoute(
  deps: PromptRouteDeps,
  req: IncomingMessage,
  url: URL,
  parts: string[],
  readJson: () => Promise<unknown>,
): Promise<RouteAnswer | null> {
  if (parts[0] !== 'api' || parts[1] !== 'prompts' || parts.length > 4) return null;
  const [, , name, action] = parts;
  const method = req.method ?? 'GET';
  // The hot path first.
  if (method === 'GET' && name && action === 'resolve') return resolve(deps, req, url, name);
  const options = { ...(deps.webhook ? { webhook: deps.webhook } : {}) };
  const written = async <T>(answer: T): Promise<RouteAnswer> => {
    if (name) await routingOf(deps).invalidate(name);
    return { status: 200, body: answer };
  };
  if (!name) {
    if (method === 'GET')
      return {
        status: 200,
        body: { data: await listPromptSummaries(deps.db, url.searchParams.get('agent') ?? undefined) },
      };
    if (method === 'POST') {
      const created = await createPrompt(deps.db, await readJson(), options);
      await routingOf(deps).invalidate(created.prompt.name);
      return { status: 201, body: created };
    }
    return null;
  }
  if (!action && method === 'GET')
    return {
      status: 200,
      body: await showPrompt(deps.db, name, {
        version: url.searchParams.get('version'),
        label: url.searchParams.get('label'),
      }),
    };
  if (action === 'labels' && method === 'POST')
    return written(await labelPrompt(deps.db, name, await readJson(), options));
  if (action === 'rollback' && method === 'POST')
    return written(await rollbackPrompt(deps.db, name, await readJson(), options));
  if (action === 'diff' && method === 'GET')
    return {
      status: 200,
      body: await diffPrompt(deps.db, name, url.searchParams.get('from'), url.searchParams.get('to')),
    };
  return null;
}
