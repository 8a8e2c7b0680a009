/**
 * The processes ride out a database that goes away: a connection killed mid-query does not
 * end the process (pg emits 'error' on a checked-out client), the pool reconnects, and the
 * API answers 503 with Retry-After, never 500, while PostgreSQL or Temporal is unreachable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { sql } from 'kysely';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import { connectDatabase, poolOf, type Db } from '../../db/connection.js';
import { isDatabaseUnavailable } from '../../db/database-unavailable.js';
import { freePort, startTestDatabase } from '../helpers/test-stack.js';

/** Ends every other session of the database, as a restart or failover would. */
async function terminateOthers(db: Db): Promise<number> {
  const rows = await sql<{ killed: boolean }>`
    select pg_terminate_backend(pid) as killed from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid()`.execute(db);
  return rows.rows.filter((r) => r.killed).length;
}

describe('database faults', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let unreachableTemporal: Client;
  const apis: ApiServer[] = [];
  before(async () => {
    database = await startTestDatabase();
    unreachableTemporal = new Client({
      connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}` }),
    });
  });
  after(async () => {
    for (const api of apis) await api.close();
    await database?.teardown();
  });

  it('a connection killed mid-query rejects that query only; the pool reconnects', async () => {
    const busy = database.db;
    const slow = sql`select pg_sleep(10)`.execute(busy).then(
      () => null,
      (e: unknown) => e,
    );
    // Wait until the sleeping session is visible, then end it from another connection.
    const killer = connectDatabase(connectionUrl(busy), 1);
    try {
      for (let i = 0; i < 50; i++) {
        const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from pg_stat_activity where query like 'select pg_sleep%' and state = 'active'`.execute(
          killer,
        );
        if (rows[0]!.n > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      // End the sleeping session only: the pool's other connections stay as they were.
      const ended = await sql<{ killed: boolean }>`
        select pg_terminate_backend(pid) as killed from pg_stat_activity
        where datname = current_database() and query like 'select pg_sleep%' and state = 'active'`.execute(
        killer,
      );
      assert.deepEqual(
        ended.rows.map((r) => r.killed),
        [true],
      );
      const failure = await slow;
      assert.ok(failure instanceof Error, 'the killed query rejects');
      assert.ok(isDatabaseUnavailable(failure), `classified as the database being away: ${String(failure)}`);
      // The process is still here (an unhandled 'error' event would have ended it). The
      // server's error reply can reach the query before the socket closes, so the pool may
      // take the connection back once more and the next query meets the closed socket: that
      // one fails as "database away" (a 503 in the API), and the pool then drops it.
      const outcomes: string[] = [];
      for (let i = 0; i < 12; i++) {
        try {
          const { rows } = await sql<{ one: number }>`select 1 as one`.execute(busy);
          outcomes.push(rows[0]!.one === 1 ? 'ok' : 'wrong');
        } catch (e) {
          outcomes.push(isDatabaseUnavailable(e) ? 'away' : `error: ${String(e)}`);
        }
      }
      assert.ok(outcomes.filter((o) => o !== 'ok').length <= 1, outcomes.join(', '));
      assert.ok(
        outcomes.every((o) => o === 'ok' || o === 'away'),
        outcomes.join(', '),
      );
      assert.deepEqual(outcomes.slice(-10), new Array<string>(10).fill('ok'));
    } finally {
      await killer.destroy();
    }
  });

  it('the API answers 503 with Retry-After while the database is unreachable, and liveness stays 200', async () => {
    const gone = connectDatabase(`postgres://flywheel@127.0.0.1:${await freePort()}/none`, 2);
    const api = await startApiServer(apiDeps(gone, unreachableTemporal), 0);
    apis.push(api);
    try {
      const live = await fetch(`${api.url}/health/live`);
      assert.equal(live.status, 200);
      const ready = await fetch(`${api.url}/health/ready`);
      assert.equal(ready.status, 503);
      assert.equal(ready.headers.get('retry-after'), '5');
      const state = (await ready.json()) as { ok: boolean; database: string; temporal: string };
      assert.equal(state.ok, false);
      assert.match(state.database, /^unavailable: /);
      assert.match(state.temporal, /^unavailable: /);
      for (const [method, path, body] of [
        ['GET', '/health', undefined],
        ['POST', '/v1/traces', '{"resourceSpans": []}'],
        ['GET', '/api/prompts/support', undefined],
      ] as const) {
        // Credentials are checked against the database too: that check answers 503 as well.
        const res = await fetch(`${api.url}${path}`, {
          method,
          headers: {
            authorization: 'Bearer fw_demo_x',
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          ...(body ? { body } : {}),
        });
        assert.equal(res.status, 503, `${method} ${path}`);
        assert.equal(res.headers.get('retry-after'), '5');
        assert.match(
          ((await res.json()) as { error: string }).error,
          /database is unavailable.*Retry in 5 s/,
        );
      }
    } finally {
      await gone.destroy();
    }
  });

  it('after every connection is killed, the API serves again on the next request', async () => {
    const api = await startApiServer(apiDeps(database.db, unreachableTemporal), 0);
    apis.push(api);
    assert.equal((await fetch(`${api.url}/health`)).status, 200);
    const killer = connectDatabase(connectionUrl(database.db), 1);
    try {
      await terminateOthers(killer);
    } finally {
      await killer.destroy();
    }
    // The first request may meet a connection the pool has not yet noticed is dead: that
    // one answers 503, never 500, and the next one is served.
    const first = await fetch(`${api.url}/health`);
    assert.ok([200, 503].includes(first.status), `got ${first.status}`);
    assert.equal((await fetch(`${api.url}/health`)).status, 200);
    const ready = (await (await fetch(`${api.url}/health/ready`)).json()) as { database: string };
    assert.equal(ready.database, 'ok');
  });
});

/** The test database's URL, for a second pool that can end the first one's sessions. */
function connectionUrl(db: Db): string {
  return (poolOf(db) as unknown as { options: { connectionString: string } }).options.connectionString;
}
