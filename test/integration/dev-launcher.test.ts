import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort, startTemporalServer } from '../helpers/local-infrastructure.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('flywheel dev when a configured model fails during the start', () => {
  let env: TestWorkflowEnvironment;
  let model: Server;
  let modelUrl = '';
  const temperatures: number[] = [];
  const home = mkdtempSync(path.join(tmpdir(), 'flywheel-dev-'));

  before(async () => {
    env = await startTemporalServer();
    // A model endpoint that fails every chat completion the way llama.cpp does when the
    // sampled output does not parse: HTTP 500, whatever the temperature.
    model = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        temperatures.push((JSON.parse(raw) as { temperature: number }).temperature);
        res.writeHead(500, { 'content-type': 'application/json', 'retry-after-ms': '1' });
        res.end(
          JSON.stringify({ error: { code: 500, message: 'output does not match the expected format' } }),
        );
      });
    });
    await new Promise<void>((resolve) => model.listen(0, '127.0.0.1', resolve));
    modelUrl = `http://127.0.0.1:${(model.address() as { port: number }).port}/v1`;
  });
  after(async () => {
    model.closeAllConnections();
    await new Promise((resolve) => model.close(resolve));
    await env.teardown();
    rmSync(home, { recursive: true, force: true });
  });

  it('says why, stops what it started and exits non-zero instead of hanging', async () => {
    const child = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), ['scripts/flywheel.ts', 'dev'], {
      cwd: ROOT,
      env: {
        ...process.env,
        FLYWHEEL_HOME: home,
        TEMPORAL_ADDRESS: env.address,
        FLYWHEEL_TASK_QUEUE: `dev-launcher-${Date.now()}`,
        FLYWHEEL_API_PORT: String(await freePort()),
        FLYWHEEL_POSTGRES_PORT: String(await freePort()),
        FLYWHEEL_LLM_BASE_URL: modelUrl,
        FLYWHEEL_AGENT_MODEL: 'agent-model',
        FLYWHEEL_JUDGE_MODEL: 'judge-model',
        FLYWHEEL_TEACHER_MODEL: 'teacher-model',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = await new Promise<number | 'hung'>((resolve) => {
      const timer = setTimeout(() => resolve('hung'), 120_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code ?? -1);
      });
    });
    if (exited === 'hung') child.kill('SIGKILL');
    assert.equal(
      exited,
      1,
      `the launcher ${exited === 'hung' ? 'did not exit' : `exited ${exited}`}:\n${output}`,
    );
    assert.match(output, /flywheel dev: .*model agent-model answered 500/);
    assert.ok(
      temperatures.some((t) => t > 0),
      'the failed request was resampled before giving up',
    );
  });
});
