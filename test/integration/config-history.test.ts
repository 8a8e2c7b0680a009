import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import type { Db } from '../../db/connection.js';
import type { ConfigHistoryEntry } from '../../registry/config-history-service.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { startTestDatabase } from '../helpers/test-stack.js';

type Answer = { agent: string; versions: ConfigHistoryEntry[]; error?: string };

/**
 * GET /api/agents/:id/config-history: every version of an agent's whole configuration with
 * who wrote it, why, and which sections it changed, for the console's configuration page.
 */
describe('configuration history over HTTP on real PostgreSQL', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let api: ApiServer;
  const who: Record<
    'ada' | 'shopViewer' | 'otherViewer' | 'globalViewer',
    Record<string, string>
  > = {} as never;

  const call = async (person: keyof typeof who, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...who[person] },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Answer };
  };

  before(async () => {
    database = await startTestDatabase();
    api = await startApiServer(apiDeps(database.db, new Client()), 0);
    who.ada = (await personWithToken(database.db, 'ada', 'admin')).headers;
    who.globalViewer = (await personWithToken(database.db, 'gil', 'viewer')).headers;
    const created = await call('ada', 'POST', '/api/agents', {
      id: 'shop',
      config: { sampling: { rate: 0.2 } },
      reason: 'launch',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await call('ada', 'POST', '/api/agents', { id: 'other' })).status, 201);
    who.shopViewer = (await personWithToken(database.db, 'sam', 'viewer', 'shop')).headers;
    who.otherViewer = (await personWithToken(database.db, 'olga', 'viewer', 'other')).headers;
    for (const [set, reason] of [
      [{ 'sampling.rate': 0.4 }, 'more traces for the new flow'],
      [{ retentionDays: 7, 'sampling.maxSample': 50 }, ''],
    ] as const) {
      const res = await call('ada', 'PATCH', '/api/agents/shop', { set, ...(reason ? { reason } : {}) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
  });
  after(async () => {
    await api?.close();
    await database?.teardown();
  });

  it('lists every version oldest first with its author, reason and the sections it changed, the newest current', async () => {
    const res = await call('shopViewer', 'GET', '/api/agents/shop/config-history');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const versions = res.body.versions;
    assert.deepEqual(
      versions.map((v) => [v.version, v.current, v.createdBy, v.reason]),
      [
        [1, false, 'user:ada', 'launch'],
        [2, false, 'user:ada', 'more traces for the new flow'],
        [3, true, 'user:ada', 'set retentionDays, sampling.maxSample'],
      ],
    );
    assert.deepEqual(versions[0]!.changes, [], 'the first version changed nothing');
    assert.deepEqual(
      versions[1]!.changes.map((c) => c.section),
      ['sampling'],
    );
    assert.match(versions[1]!.changes[0]!.change, /rate: 0\.2 → 0\.4/);
    assert.deepEqual(
      versions[2]!.changes.map((c) => c.section),
      ['retentionDays', 'sampling'],
    );
    assert.match(versions[2]!.changes.find((c) => c.section === 'sampling')!.change, /maxSample: .* → 50/);
    assert.equal(
      (versions[2]!.config as { retentionDays: number }).retentionDays,
      7,
      'the config as written',
    );
    assert.ok(versions.every((v) => !Number.isNaN(Date.parse(v.createdAt))));
  });

  it("refuses another agent's viewer, and answers 404 for an agent nobody registered", async () => {
    const foreign = await call('otherViewer', 'GET', '/api/agents/shop/config-history');
    assert.equal(foreign.status, 403);
    const missing = await call('globalViewer', 'GET', '/api/agents/nobody/config-history');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error ?? '', /No agent "nobody"/);
  });
});
