import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { RouteRequest } from '../../api/api-route.js';
import { CONSOLE_CSP, consoleRoutes } from '../../api/console-routes.js';

const dir = mkdtempSync(path.join(tmpdir(), 'console-dist-'));
const routes = consoleRoutes({ consoleDir: dir });
const route = (url: string) => {
  const found = routes.find((r) => r.url === url);
  if (!found) throw new Error(`no route ${url}`);
  return found;
};
/** A request as the server hands it to a public route: nobody signed in, no body. */
const request = (params: Record<string, string> = {}): RouteRequest => ({
  principal: { kind: 'user', id: 'anonymous', grants: [], via: 'token' },
  params,
  query: new URLSearchParams(),
  headers: {},
  raw: Buffer.alloc(0),
  json: () => ({}),
  agent: null,
  requireAgent: () => undefined,
  ip: '127.0.0.1',
  session: null,
});

describe('the web console routes', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('are public GETs, and say how to build the console when it is not built (503)', async () => {
    for (const r of routes) {
      assert.equal(r.method, 'GET');
      assert.deepEqual(r.auth, { public: true });
    }
    const answer = await route('/console/*').handler(request({ '*': 'queues/x' }));
    assert.equal(answer.status, 503);
    assert.match(Buffer.from(answer.binary?.data ?? []).toString(), /npm run console:build/);
  });

  it('answer every console path with the page shell under the console CSP, and assets by exact name only', async () => {
    mkdirSync(path.join(dir, 'assets'), { recursive: true });
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>x</title>');
    writeFileSync(path.join(dir, 'assets', 'index-Ab_1.js'), 'export {}');
    writeFileSync(path.join(dir, 'secret.txt'), 'no');
    const shell = await route('/console/*').handler(request({ '*': 'queues/q/items/i' }));
    assert.equal(shell.status, 200);
    assert.equal(shell.headers?.['content-security-policy'], CONSOLE_CSP);
    assert.equal(shell.headers?.['cache-control'], 'no-cache');
    assert.match(shell.binary?.contentType ?? '', /^text\/html/);
    const asset = await route('/console/assets/:file').handler(request({ file: 'index-Ab_1.js' }));
    assert.equal(asset.status, 200);
    assert.match(asset.binary?.contentType ?? '', /^text\/javascript/);
    assert.match(asset.headers?.['cache-control'] ?? '', /immutable/);
    for (const file of ['../secret.txt', '..', 'index-Ab_1.js/', 'secret.txt', 'index.html'])
      assert.equal((await route('/console/assets/:file').handler(request({ file }))).status, 404, file);
    assert.doesNotMatch(CONSOLE_CSP, /unsafe-inline|unsafe-eval|\*/);
  });

  it('send / and /console to the console', async () => {
    for (const url of ['/', '/console'])
      assert.deepEqual((await route(url).handler(request())).headers, { location: '/console/' });
  });
});
