import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { request } from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runApiWorkers, workerExecArgv, WORKER_SEMI_SPACE_MB } from '../../api/api-workers.js';

const APP = path.join(import.meta.dirname, '../fixtures/api-workers-app.ts');

/** One request on a fresh connection, so the primary hands it to the next worker. */
function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.once('end', () => resolve(body));
    });
    req.once('error', reject);
    req.end();
  });
}

async function pids(url: string, requests = 8): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < requests; i++) seen.add(await get(url));
  return seen;
}

describe('API workers', () => {
  let app: ChildProcessWithoutNullStreams;
  let url: string;
  let output = '';

  before(async () => {
    app = spawn(process.execPath, ['--import', 'tsx', APP, '2']);
    url = await new Promise<string>((resolve, reject) => {
      app.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const m = /listening on (\S+)/.exec(output);
        if (m?.[1]) resolve(m[1]);
      });
      app.once('exit', (code) => reject(new Error(`the app exited with ${code}: ${output}`)));
    });
  });
  after(() => app.kill('SIGKILL'));

  it('serves one port from two worker processes', async () => {
    const seen = await pids(url);
    assert.equal(seen.size, 2, `pids: ${[...seen].join(', ')}`);
    assert.ok(!seen.has(String(app.pid)), 'the primary only hands out connections');
  });

  it('replaces a worker that dies and keeps serving', async () => {
    const before = await pids(url);
    const gone = await get(`${url}/exit`);
    for (let i = 0; i < 50 && !output.includes(`worker ${gone} exited`); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    assert.match(output, new RegExp(`worker ${gone} exited with 3`));
    let now = new Set<string>();
    for (let i = 0; i < 50 && now.size < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      now = await pids(url, 4);
    }
    assert.equal(now.size, 2);
    assert.ok(!now.has(gone));
    assert.ok(
      [...before].some((pid) => now.has(pid)),
      'the other worker stayed',
    );
  });

  it('stops every worker on SIGTERM', async () => {
    const code = await new Promise<number | null>((resolve) => {
      app.once('exit', resolve);
      app.kill('SIGTERM');
    });
    assert.equal(code, 0);
  });

  it('refuses a worker count that is not a whole number of at least one', async () => {
    await assert.rejects(
      runApiWorkers({ workers: 0, start: () => Promise.reject(new Error('not started')) }),
      /whole number ≥ 1/,
    );
  });

  it('forks workers with a larger young generation unless the command line sets one', () => {
    assert.deepEqual(workerExecArgv(['--import', 'tsx']), [
      '--import',
      'tsx',
      `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`,
    ]);
    assert.deepEqual(workerExecArgv(['--max-semi-space-size=8']), ['--max-semi-space-size=8']);
  });
});
