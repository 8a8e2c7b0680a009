import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { apiDeps, buildApi } from '../../api/http-server.js';
import { requirementsOf, type ApiRoute } from '../../api/api-route.js';
import { principalOfHeader, type PrincipalVerifier } from '../../api/authentication.js';
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
const verifier: PrincipalVerifier = { verifyBearer: (token) => Promise.resolve(PRINCIPALS[token] ?? null) };

/** A concrete path for a route: its parameters name alpha's things (alpha's prompt is seeded). */
const pathOf = (route: ApiRoute) =>
  route.url.replace(/:(\w+)/g, (_, p: string) => (p === 'name' || p === 'id' ? 'alpha' : 'x'));
const errorOf = (body: string) => (JSON.parse(body) as { error: string }).error;
const below = (role: Role): Role | null => ROLES[ROLES.indexOf(role) - 1] ?? null;

describe('API route table: authentication and roles', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let app: FastifyInstance;
  let routes: ApiRoute[];
  // Never connected: handlers that would reach Temporal are not what this test is about.
  const temporal = new Client();

  const call = async (route: ApiRoute, token?: string) => {
    const res = await app.inject({
      method: route.method,
      url: pathOf(route) + (route.url === '/api/prompts/:name/resolve' ? '?unit=u1' : ''),
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
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
      authenticator: { authenticate: (req) => principalOfHeader(verifier, req.headers.authorization ?? '') },
    }));
  });
  after(async () => {
    await app?.close();
    await database?.teardown();
  });

  it('declares a role or scope for every route, and only health is public', () => {
    assert.ok(routes.length >= 35, `expected the whole table, got ${routes.length} routes`);
    for (const route of routes) {
      const reqs = requirementsOf(route);
      assert.ok(reqs.length > 0, `${route.method} ${route.url} declares no requirement`);
      const isPublic = reqs.some((r) => 'public' in r);
      assert.equal(
        isPublic,
        route.url.startsWith('/health'),
        `${route.method} ${route.url} public=${isPublic}`,
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

  it('answers 401 without credentials and with an unknown token, on every route but health', async () => {
    for (const route of routes) {
      const res = await call(route);
      if (route.url.startsWith('/health')) {
        assert.notEqual(res.statusCode, 401, `${route.method} ${route.url}`);
        continue;
      }
      assert.equal(res.statusCode, 401, `${route.method} ${route.url} without credentials: ${res.body}`);
      assert.match(errorOf(res.body), /Authorization: Bearer/);
      const unknown = await call(route, 'no-such-token');
      assert.equal(unknown.statusCode, 401, `${route.method} ${route.url} with an unknown token`);
    }
  });

  it('answers 403, naming what is needed, to a caller one role short or with the wrong kind of token', async () => {
    for (const route of routes.filter((r) => !r.url.startsWith('/health'))) {
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
      const token = 'role' in requirement ? `global-${requirement.role}` : 'agent-alpha';
      const res = await call(route, token);
      assert.ok(
        ![401, 403].includes(res.statusCode),
        `${route.method} ${route.url} as ${token}: ${res.body}`,
      );
      assert.ok(
        res.statusCode < 500,
        `${route.method} ${route.url} as ${token}: ${res.statusCode} ${res.body}`,
      );
    }
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
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      assert.ok(
        doc.paths[path]?.[route.method.toLowerCase()],
        `${route.method} ${path} missing from OpenAPI`,
      );
    }
  });

  it('limits each token on ingest with 429 and Retry-After, without touching other tokens', async () => {
    const { app: limited } = await buildApi(
      { ...apiDeps(database.db, temporal), rateLimits: { ingestPerSecond: 2 } },
      {
        authenticator: {
          authenticate: (req) => principalOfHeader(verifier, req.headers.authorization ?? ''),
        },
      },
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
