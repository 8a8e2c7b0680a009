import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import type { Db } from '../../db/connection.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { startTestDatabase } from '../helpers/test-stack.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const HOUR = 3_600_000;

/**
 * The trace list's "coaching applied" filter (GET /api/traces?coaching=, `flywheel trace list
 * --coaching`) on real Postgres: a coaching id finds the traces that applied any of its
 * versions (and only those: not another coaching's, not a lookalike id), `id@version` one
 * version, `any` every trace that applied some coaching (a list or one string), `none` the
 * rest; with other filters, across agents, page by page, and the CLI answers the same.
 */
describe('trace list filtered by the coaching applied, on real Postgres', () => {
  let database: { db: Db; url: string; teardown(): Promise<void> };
  let api: ApiServer;
  const headers: Record<string, Record<string, string>> = {};
  let coachingId = '';
  let otherId = '';

  const list = async (who: string, query: string) => {
    const res = await fetch(`${api.url}/api/traces${query}`, { headers: headers[who] });
    const body = (await res.json()) as {
      traces?: { id: string }[];
      nextCursor?: string | null;
      error?: string;
    };
    return { status: res.status, body, ids: (body.traces ?? []).map((t) => t.id) };
  };

  before(async () => {
    database = await startTestDatabase();
    const db = database.db;
    await db
      .insertInto('agents')
      .values([
        { id: 'airline', config: '{}' },
        { id: 'retail', config: '{}' },
      ])
      .execute();
    api = await startApiServer(apiDeps(db, new Client()), 0);
    for (const [who, role, agent] of [
      ['rita', 'reviewer', 'airline'],
      ['gina', 'viewer', null],
    ] as const)
      headers[who] = (await personWithToken(db, who, role, agent)).headers;

    const create = async (situation: string) => {
      const res = await fetch(`${api.url}/api/agents/airline/coaching`, {
        method: 'POST',
        headers: { ...headers.rita, 'content-type': 'application/json' },
        body: JSON.stringify({ situation, behaviour: { kind: 'reply', text: 'Let me check that for you.' } }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      return ((await res.json()) as { coaching: { id: string } }).coaching.id;
    };
    coachingId = await create('When a customer asks to move a basic-economy flight');
    otherId = await create('When a customer reports a damaged bag');
    // A second version, so a trace may carry either tag.
    const retired = await fetch(`${api.url}/api/agents/airline/coaching/${coachingId}/retire`, {
      method: 'POST',
      headers: { ...headers.rita, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'a second version for the filter test' }),
    });
    assert.equal(retired.status, 200, await retired.clone().text());

    const now = Date.now();
    const trace = (id: string, agent: string, hoursAgo: number, applied?: unknown) => ({
      id,
      agent,
      timestamp: new Date(now - hoursAgo * HOUR).toISOString(),
      input: { messages: [{ role: 'user', content: `request ${id}` }] },
      output: { action: 'respond', content: 'Done.' },
      ...(hoursAgo < 3 ? { status: 'error' } : {}),
      ...(applied === undefined ? {} : { attributes: { 'flywheel.coaching.ids': applied } }),
    });
    for (const [agent, lines] of [
      [
        'airline',
        [
          trace('v1-list', 'airline', 1, [`${coachingId}@1`]),
          trace('v2-with-other', 'airline', 2, [`${otherId}@1`, `${coachingId}@2`]),
          trace('v1-string', 'airline', 3, `${coachingId}@1`),
          trace('other-only', 'airline', 4, [`${otherId}@1`]),
          trace('lookalike', 'airline', 5, [`${coachingId}x@1`]),
          trace('empty-list', 'airline', 6, []),
          trace('plain', 'airline', 7),
        ],
      ],
      [
        'retail',
        [trace('retail-tagged', 'retail', 1.5, [`${coachingId}@1`]), trace('retail-plain', 'retail', 2)],
      ],
    ] as const) {
      const { token } = await createAgentToken(db, { agent, scopes: ['ingest'], createdBy: 'test' });
      const res = await fetch(`${api.url}/api/traces`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: lines.map((l) => JSON.stringify(l)).join('\n'),
      });
      assert.equal(res.status, 200, await res.text());
    }
  });
  after(async () => {
    await api?.close();
    await database?.teardown();
  });

  it('lists the traces that applied a coaching (any version, list or string), one version of it, some coaching, or none', async () => {
    const cases: [string, string[]][] = [
      [`coaching=${coachingId}`, ['v1-list', 'v2-with-other', 'v1-string']],
      [`coaching=${coachingId}@1`, ['v1-list', 'v1-string']],
      [`coaching=${coachingId}@2`, ['v2-with-other']],
      [`coaching=${coachingId}@3`, []],
      [`coaching=${otherId}`, ['v2-with-other', 'other-only']],
      ['coaching=any', ['v1-list', 'v2-with-other', 'v1-string', 'other-only', 'lookalike']],
      ['coaching=none', ['empty-list', 'plain']],
      ['coaching=coa_000000000000', []],
    ];
    for (const [query, expected] of cases) {
      const res = await list('rita', `?agent=airline&${query}`);
      assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
      assert.deepEqual(res.ids, expected, query);
    }
  });

  it('combines with the other filters, pages with the cursor, and spans agents for a global viewer', async () => {
    assert.deepEqual(
      (await list('rita', `?agent=airline&coaching=${coachingId}&status=error`)).ids,
      ['v1-list', 'v2-with-other'],
      'traces of the last 3 hours are errors',
    );
    const first = await list('rita', `?agent=airline&coaching=${coachingId}&limit=2`);
    assert.deepEqual(first.ids, ['v1-list', 'v2-with-other']);
    assert.ok(first.body.nextCursor);
    const second = await list(
      'rita',
      `?agent=airline&coaching=${coachingId}&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
    );
    assert.deepEqual(second.ids, ['v1-string']);
    assert.equal(second.body.nextCursor, null);

    assert.deepEqual((await list('gina', `?coaching=${coachingId}@1`)).ids, [
      'v1-list',
      'retail-tagged',
      'v1-string',
    ]);
    assert.equal((await list('rita', `?agent=retail&coaching=${coachingId}`)).status, 403);
  });

  it('refuses a value that is no coaching filter, saying what to send', async () => {
    for (const bad of ['coa_x@0', 'two words', 'coa_x@'] as const) {
      const res = await list('rita', `?agent=airline&coaching=${encodeURIComponent(bad)}`);
      assert.equal(res.status, 400, bad);
      assert.match(
        res.body.error ?? '',
        /coaching must be a coaching id \(coa_…\), one of its versions/,
        bad,
      );
    }
  });

  it('answers the same from flywheel trace list --coaching', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: database.url };
    const flywheel = async (...args: string[]) =>
      (
        await promisify(execFile)(
          path.join(ROOT, 'node_modules/.bin/tsx'),
          ['scripts/flywheel.ts', ...args],
          {
            cwd: ROOT,
            env,
          },
        )
      ).stdout;
    const page = JSON.parse(
      await flywheel('trace', 'list', '--agent', 'airline', '--coaching', coachingId, '--json'),
    ) as { traces: { id: string }[] };
    assert.deepEqual(
      page.traces.map((t) => t.id),
      ['v1-list', 'v2-with-other', 'v1-string'],
    );
    const none = await flywheel('trace', 'list', '--agent', 'airline', '--coaching', 'none');
    assert.match(none, /empty-list/);
    assert.match(none, /plain/);
    assert.doesNotMatch(none, /v1-list/);
    await assert.rejects(flywheel('trace', 'list', '--coaching', 'coa_x@0'), (e: { stderr?: string }) =>
      /coaching must be a coaching id/.test(e.stderr ?? ''),
    );
  });
});
