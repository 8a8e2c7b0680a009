import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer } from '../../api/http-server.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import type { Db } from '../../db/connection.js';
import { readTrace } from '../../traces/store/trace-reader.js';
import { startTestDatabase } from '../helpers/test-stack.js';

/** SIGTERM's path: the API stops accepting, finishes what is in flight, and stops within a bound. */
describe('API shutdown drains requests in flight, within a bound', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let token: string;

  before(async () => {
    database = await startTestDatabase();
    await database.db.insertInto('agents').values({ id: 'drain', config: '{}' }).execute();
    token = (await createAgentToken(database.db, { agent: 'drain', scopes: ['ingest'], createdBy: 'test' }))
      .token;
  });
  after(async () => {
    await database?.teardown();
  });

  /** A POST whose body the caller sends in two parts, so it is in flight for as long as the test wants. */
  const slowPost = (url: string, path: string) => {
    const req = request(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
    const answer = new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', (e) => resolve({ error: e.message }));
    });
    return { req, answer };
  };

  it('a request in flight when shutdown starts still gets its answer; new connections are refused', async () => {
    const api = await startApiServer(apiDeps(database.db, new Client()), 0);
    const line = JSON.stringify({
      id: 'drain-1',
      timestamp: new Date().toISOString(),
      input: { messages: [{ role: 'user', content: 'hello' }] },
      output: { action: 'respond', content: 'hi' },
    });
    const { req, answer } = slowPost(api.url, '/api/traces');
    req.write(line.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closed = api.close(5_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await assert.rejects(fetch(`${api.url}/health/live`), 'no new connection while draining');
    req.end(line.slice(10));
    const got = await answer;
    assert.ok('status' in got, JSON.stringify(got));
    assert.equal(got.status, 200, got.body);
    await closed;
    assert.equal((await readTrace(database.db, 'drain-1'))?.id, 'drain-1');
  });

  it('a request that never finishes is cut at the bound, and shutdown completes', async () => {
    const api = await startApiServer(apiDeps(database.db, new Client()), 0);
    const { req, answer } = slowPost(api.url, '/api/traces');
    req.write('{"id": "never-ends"');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = performance.now();
    await api.close(500);
    const took = performance.now() - started;
    assert.ok(took >= 400 && took < 3_000, `shutdown took ${took.toFixed(0)} ms for a 500 ms bound`);
    const got = await answer;
    assert.ok('error' in got, 'the hung request was cut');
  });
});
