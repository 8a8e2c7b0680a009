import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { apiDeps, buildApi } from '../../api/http-server.js';
import { requirementsOf, type ApiRoute } from '../../api/api-route.js';
import { createAuthenticator, type PrincipalVerifier } from '../../api/authentication.js';
import type { Db } from '../../db/connection.js';
import { ensureAgent } from '../../registry/store/agent-repository.js';
import { createVersion } from '../../registry/store/prompt-repository.js';
import { ROLES, type Principal, type Role } from '../../schemas/principal.js';
import { startTestDatabase } from '../helpers/test-stack.js';

/**
 * The route table's protection, walked route by route: every route but health refuses a
 * caller without credentials (401), a caller without the role or scope it declares (403)
 * and a caller whose rights are for another agent (403), and lets through one that has
 * them. Principals are fixed here so the test exercises the table's authorization, not
 * token storage (principals.test.ts covers that).
 */
const user = (id: string, role: Role, agent: string | null = null): Principal => ({
  kind: 'user',
  id,
  grants: [{ role, agent }],
  via: 'token',
});
const PRINCIPALS: Record<string, Principal> = {
  ...Object.fromEntries(ROLES.map((r) => [`global-${r}`, user(`global-${r}`, r)])),
  ...Object.fromEntries(ROLES.map((r) => [`beta-${r}`, user(`beta-${r}`, r, 'beta')])),
  ...Object.fromEntries(ROLES.map((r) => [`alpha-${r}`, user(`alpha-${r}`, r, 'alpha')])),
  'agent-alpha': {
    kind: 'agent',
    id: 'tok_alpha',
    agent: 'alpha',
    scopes: ['ingest', 'feedback', 'resolve'],
  },
  'agent-beta': { kind: 'agent', id: 'tok_beta', agent: 'beta', scopes: ['ingest', 'feedback', 'resolve'] },
  'agent-alpha-none': { kind: 'agent', id: 'tok_none', agent: 'alpha', scopes: [] },
};
/** One console session, of a global admin: the cookie `session-admin` with the CSRF token `csrf-ok`. */
const SESSION = {
  principal: {
    kind: 'user' as const,
    id: 'session-admin',
    grants: [{ role: 'admin' as const, agent: null }],
    via: 'session' as const,
  },
  sessionId: 'ses_test',
  csrfToken: 'csrf-ok',
  expiresAt: new Date(Date.now() + 3_600_000),
};
const verifier: PrincipalVerifier = {
  verifyBearer: (token) => Promise.resolve(PRINCIPALS[token] ?? null),
  verifySession: (secret) => Promise.resolve(secret === 'session-admin' ? SESSION : null),
};
/** Routes anyone may call: health, and signing in. */
const PUBLIC = [
  'GET /health',
  'GET /health/live',
  'GET /health/ready',
  'POST /api/session',
  // The web console's page and assets hold no data: every datum comes from the /api routes.
  'GET /',
  'GET /console',
  'GET /console/*',
  'GET /console/assets/:file',
];
const isPublic = (route: ApiRoute) => requirementsOf(route).some((r) => 'public' in r);

/** A concrete path for a route: its parameters name alpha's things (alpha's prompt is seeded). */
const pathOf = (route: ApiRoute) =>
  route.url.replace(/:(\w+)/g, (_, p: string) => (p === 'name' || p === 'id' ? 'alpha' : 'x'));
const errorOf = (body: string) => (JSON.parse(body) as { error: string }).error;
const below = (role: Role): Role | null => ROLES[ROLES.indexOf(role) - 1] ?? null;

/**
 * A server error: any 5xx but the 503 of a route that needs a model this API has none of
 * (no model is configured here), which says which one to configure.
 */
const serverError = (res: { statusCode: number; body: string }) =>
  res.statusCode >= 500 &&
  !(res.statusCode === 503 && /needs the teacher model \(FLYWHEEL_LLM_BASE_URL/.test(res.body));

describe('API route table: authentication and roles', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let app: FastifyInstance;
  let routes: ApiRoute[];
  // Never connected: handlers that would reach Temporal are not what this test is about.
  const temporal = new Client();

  const call = async (route: ApiRoute, token?: string, extra: Record<string, string> = {}) => {
    const res = await app.inject({
      method: route.method,
      url: pathOf(route) + (route.url === '/api/prompts/:name/resolve' ? '?unit=u1' : ''),
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...extra,
        ...(route.method === 'GET' ? {} : { 'content-type': 'application/json' }),
      },
      ...(route.method === 'GET' ? {} : { payload: '{}' }),
    });
    return res;
  };

  before(async () => {
    database = await startTestDatabase();
    await ensureAgent(database.db, 'alpha');
    await ensureAgent(database.db, 'beta');
    await createVersion(database.db, {
      name: 'alpha',
      agent: 'alpha',
      type: 'text',
      prompt: 'You help alpha customers.',
      createdBy: 'test',
      source: 'manual',
      labels: ['production'],
    });
    ({ app, routes } = await buildApi(apiDeps(database.db, temporal), {
      authenticator: createAuthenticator(verifier),
    }));
  });
  after(async () => {
    await app?.close();
    await database?.teardown();
  });

  it('declares a role or scope for every route, and only health, sign-in and the console shell are public', () => {
    assert.ok(routes.length >= 35, `expected the whole table, got ${routes.length} routes`);
    for (const route of routes) {
      const reqs = requirementsOf(route);
      assert.ok(reqs.length > 0, `${route.method} ${route.url} declares no requirement`);
      assert.equal(
        isPublic(route),
        PUBLIC.includes(`${route.method} ${route.url}`),
        `${route.method} ${route.url} public=${isPublic(route)}`,
      );
    }
  });

  it('refuses a route registered without a declaration', async () => {
    await assert.rejects(
      buildApi(apiDeps(database.db, temporal), {
        beforeReady: (other) => other.get('/api/sneaky', () => Promise.resolve({ ok: true })),
      }),
      /GET \/api\/sneaky has no route declaration/,
    );
  });

  it('answers 401 without credentials, with an unknown token and with an ended session, on every route but health and sign-in', async () => {
    for (const route of routes) {
      const res = await call(route);
      if (isPublic(route)) {
        assert.notEqual(res.statusCode, 401, `${route.method} ${route.url}`);
        continue;
      }
      assert.equal(res.statusCode, 401, `${route.method} ${route.url} without credentials: ${res.body}`);
      assert.match(errorOf(res.body), /Authorization: Bearer/);
      const unknown = await call(route, 'no-such-token');
      assert.equal(unknown.statusCode, 401, `${route.method} ${route.url} with an unknown token`);
      const ended = await call(route, undefined, { cookie: 'flywheel_session=no-such-session' });
      assert.equal(ended.statusCode, 401, `${route.method} ${route.url} with an ended session`);
      assert.match(errorOf(ended.body), /session has ended/);
      // A bearer header wins over a cookie: a bad token is not rescued by a good session.
      const both = await call(route, 'no-such-token', { cookie: 'flywheel_session=session-admin' });
      assert.equal(both.statusCode, 401, `${route.method} ${route.url} with a bad token and a session`);
    }
  });

  it('answers 403, naming what is needed, to a caller one role short or with the wrong kind of token', async () => {
    for (const route of routes.filter((r) => !isPublic(r))) {
      for (const requirement of requirementsOf(route)) {
        // A caller that meets none of the route's requirements.
        let token: string;
        if ('role' in requirement) {
          const lower = below(requirement.role);
          if (requirementsOf(route).some((r) => 'scope' in r))
            token = lower ? `global-${lower}` : 'agent-alpha-none';
          else token = lower ? `global-${lower}` : 'agent-alpha';
        } else token = requirementsOf(route).some((r) => 'role' in r) ? 'agent-alpha-none' : 'global-admin';
        const res = await call(route, token);
        assert.equal(
          res.statusCode,
          403,
          `${route.method} ${route.url} as ${token}: ${res.statusCode} ${res.body}`,
        );
        assert.match(errorOf(res.body), /needs .*(role|scope)/);
      }
    }
  });

  it("answers 403 to rights held for another agent, on routes over one agent's data", async () => {
    const agentRoutes = routes.filter(
      (r) => r.agent && (r.url.includes(':name') || r.url.startsWith('/api/agents/:id')),
    );
    assert.ok(agentRoutes.length >= 8, `prompt and agent routes: ${agentRoutes.length}`);
    for (const route of agentRoutes) {
      for (const requirement of requirementsOf(route)) {
        const token = 'role' in requirement ? `beta-admin` : 'agent-beta';
        const res = await call(route, token);
        assert.equal(res.statusCode, 403, `${route.method} ${route.url} as ${token}: ${res.body}`);
        // The same rights for alpha are let through (whatever the handler then says of the body).
        const own = 'role' in requirement ? `alpha-${requirement.role}` : 'agent-alpha';
        const ok = await call(route, own);
        assert.ok(![401, 403].includes(ok.statusCode), `${route.method} ${route.url} as ${own}: ${ok.body}`);
      }
    }
  });

  it('lets a caller with the declared rights through, and never answers 500', async () => {
    for (const route of routes.filter((r) => !r.url.startsWith('/health'))) {
      // Routes that would wait on the unconnected Temporal client are checked above only.
      if (/cycles|rollouts/.test(route.url) && !route.url.endsWith('annotations')) continue;
      const requirement = requirementsOf(route)[0]!;
      const token =
        'public' in requirement
          ? undefined
          : 'role' in requirement
            ? `global-${requirement.role}`
            : 'agent-alpha';
      const res = await call(route, token);
      assert.ok(
        ![401, 403].includes(res.statusCode),
        `${route.method} ${route.url} as ${token}: ${res.body}`,
      );
      assert.ok(!serverError(res), `${route.method} ${route.url} as ${token}: ${res.statusCode} ${res.body}`);
    }
  });

  it('refuses a change made with the session cookie but without its CSRF token, on every route but the codec', async () => {
    const cookie = { cookie: 'flywheel_session=session-admin' };
    // The session is a global admin's: every route with a role lets it through.
    const withRole = routes.filter(
      (r) =>
        requirementsOf(r).some((q) => 'role' in q) &&
        !(/cycles|rollouts/.test(r.url) && !r.url.endsWith('annotations')),
    );
    for (const route of withRole.filter((r) => r.method !== 'GET')) {
      const missing = await call(route, undefined, cookie);
      if (route.csrfExempt) {
        assert.match(
          route.url,
          /^\/api\/codec\//,
          `only the codec's POSTs, which change nothing, are exempt`,
        );
        assert.ok(![401, 403].includes(missing.statusCode), `${route.method} ${route.url}: ${missing.body}`);
        continue;
      }
      assert.equal(
        missing.statusCode,
        403,
        `${route.method} ${route.url} without X-CSRF-Token: ${missing.body}`,
      );
      assert.match(errorOf(missing.body), /needs the X-CSRF-Token header/);
      const wrong = await call(route, undefined, { ...cookie, 'x-csrf-token': 'csrf-forged' });
      assert.equal(wrong.statusCode, 403, `${route.method} ${route.url} with a wrong token: ${wrong.body}`);
      assert.match(errorOf(wrong.body), /not this session's CSRF token/);
      const right = await call(route, undefined, { ...cookie, 'x-csrf-token': 'csrf-ok' });
      assert.ok(![401, 403].includes(right.statusCode), `${route.method} ${route.url}: ${right.body}`);
      assert.ok(!serverError(right), `${route.method} ${route.url}: ${right.statusCode} ${right.body}`);
    }
    // Reading needs the cookie only.
    for (const route of withRole.filter((r) => r.method === 'GET')) {
      const res = await call(route, undefined, cookie);
      assert.ok(![401, 403].includes(res.statusCode), `${route.method} ${route.url}: ${res.body}`);
    }
    // A bearer token needs no CSRF token.
    const create = routes.find((r) => r.method === 'POST' && r.url === '/api/users')!;
    assert.equal((await call(create, 'global-admin')).statusCode, 400);
  });

  it("keeps a person with a role for one agent to that agent's data, lists included", async () => {
    const get = async (url: string) =>
      (await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer alpha-viewer' } }))
        .statusCode;
    // Lists over every agent need a global grant; asking for one's own agent is allowed.
    for (const list of ['/api/traces', '/api/prompts', '/api/queues', '/api/datasets'])
      assert.equal(await get(list), 403, `${list} for a viewer of alpha`);
    // The agent list is filtered to the agents one holds a role for.
    const agents = await app.inject({
      method: 'GET',
      url: '/api/agents',
      headers: { authorization: 'Bearer alpha-viewer' },
    });
    assert.equal(agents.statusCode, 200);
    assert.deepEqual(
      (JSON.parse(agents.body) as { data: { id: string }[] }).data.map((a) => a.id),
      ['alpha'],
    );
    const everyone = await app.inject({
      method: 'GET',
      url: '/api/agents',
      headers: { authorization: 'Bearer global-viewer' },
    });
    assert.deepEqual((JSON.parse(everyone.body) as { data: { id: string }[] }).data.map((a) => a.id).sort(), [
      'alpha',
      'beta',
    ]);
    for (const list of ['/api/traces?agent=alpha', '/api/prompts?agent=alpha', '/api/datasets?agent=alpha'])
      assert.equal(await get(list), 200, `${list} for a viewer of alpha`);
    for (const other of ['/api/traces?agent=beta', '/api/prompts?agent=beta', '/api/agents/beta'])
      assert.equal(await get(other), 403, `${other} for a viewer of alpha`);
    assert.equal(await get('/api/prompts/alpha'), 200);
    assert.equal(await get('/api/lineage/anything'), 403, 'an id that names nothing needs a global role');
  });

  it('refuses identity fields in bodies: who acts comes from the credentials', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/prompts/alpha/labels',
      headers: { authorization: 'Bearer global-operator', 'content-type': 'application/json' },
      payload: JSON.stringify({ label: 'staging', version: 1, actor: 'someone-else' }),
    });
    assert.equal(res.statusCode, 400);
    assert.match(errorOf(res.body), /Remove "actor".*user:global-operator/);
    const ok = await app.inject({
      method: 'POST',
      url: '/api/prompts/alpha/labels',
      headers: { authorization: 'Bearer global-operator', 'content-type': 'application/json' },
      payload: JSON.stringify({ label: 'staging', version: 1 }),
    });
    assert.equal(ok.statusCode, 200, ok.body);
    const audit = await database.db
      .selectFrom('audit_log')
      .select(['actor', 'action'])
      .where('artifact', 'like', '%alpha%')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(audit.actor, 'user:global-operator');
  });

  it('publishes an OpenAPI document that validates and covers every route', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/openapi.json',
      headers: { authorization: 'Bearer global-viewer' },
    });
    assert.equal(res.statusCode, 200);
    const doc = JSON.parse(res.body) as { paths: Record<string, Record<string, unknown>> };
    await SwaggerParser.validate(structuredClone(doc) as never);
    for (const route of routes) {
      const path = route.url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{*}');
      assert.ok(
        doc.paths[path]?.[route.method.toLowerCase()],
        `${route.method} ${path} missing from OpenAPI`,
      );
    }
  });

  it('limits each token on ingest with 429 and Retry-After, without touching other tokens', async () => {
    const { app: limited } = await buildApi(
      { ...apiDeps(database.db, temporal), rateLimits: { ingestPerSecond: 2 } },
      { authenticator: createAuthenticator(verifier) },
    );
    try {
      const send = (token: string) =>
        limited.inject({
          method: 'POST',
          url: '/api/traces',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
          payload: '',
        });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await send('agent-alpha')).statusCode);
      assert.deepEqual(
        statuses.slice(0, 2).map((s) => s !== 429),
        [true, true],
      );
      const third = await send('agent-alpha');
      assert.equal(third.statusCode, 429, third.body);
      assert.ok(Number(third.headers['retry-after']) >= 1, `retry-after ${third.headers['retry-after']}`);
      assert.match(errorOf(third.body), /Rate limit exceeded/);
      assert.notEqual((await send('agent-beta')).statusCode, 429);
    } finally {
      await limited.close();
    }
  });

  it('sets security headers on every answer', async () => {
    const res = await app.inject({ method: 'GET', url: '/health/live' });
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.ok(res.headers['x-frame-options']);
  });
});
