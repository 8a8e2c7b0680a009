import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { heartbeatInterceptor } from '../../workers/heartbeat-interceptor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the activity heartbeat interceptor', () => {
  it('heartbeats while one long step runs, and stops when the activity ends', async () => {
    const env = new MockActivityEnvironment(
      { heartbeatTimeoutMs: 3000 },
      { interceptors: [heartbeatInterceptor] },
    );
    let beats = 0;
    env.on('heartbeat', () => beats++);
    // One silent step of 2.5 s: longer than two thirds of the timeout.
    assert.equal(await env.run(() => sleep(2500).then(() => 'done')), 'done');
    assert.equal(beats, 2, 'one heartbeat per second (a third of the timeout)');
    await sleep(1200);
    assert.equal(beats, 2, 'none after the activity ended');
  });

  it('leaves activities without a heartbeat timeout alone', async () => {
    const env = new MockActivityEnvironment(
      { heartbeatTimeoutMs: undefined },
      { interceptors: [heartbeatInterceptor] },
    );
    let beats = 0;
    env.on('heartbeat', () => beats++);
    await env.run(() => sleep(1200));
    assert.equal(beats, 0);
  });
});
