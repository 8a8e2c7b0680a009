import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LoginThrottle,
  TooManyAttemptsError,
  type LoginThrottleOptions,
} from '../../registry/login-throttle.js';

const MINUTE = 60_000;
const options: LoginThrottleOptions = {
  user: { maxFailures: 3, windowMs: 10 * MINUTE, baseLockMs: 30_000, maxLockMs: 2 * MINUTE },
  ip: { maxFailures: 5, windowMs: 10 * MINUTE, baseLockMs: 60_000, maxLockMs: 4 * MINUTE },
  maxKeys: 100,
};
const T0 = 1_700_000_000_000;

/** `n` failures of `attempt`, one second apart from `start`; returns the last answer and time. */
function fail(
  throttle: LoginThrottle,
  attempt: { user: string; ip: string | null },
  n: number,
  start: number,
) {
  let wait = 0;
  let now = start;
  for (let i = 0; i < n; i++) {
    now = start + i * 1000;
    wait = throttle.failed(attempt, now);
  }
  return { wait, now };
}

describe('login throttle', () => {
  it('lets attempts through below the failure limit', () => {
    const throttle = new LoginThrottle(options);
    const { wait, now } = fail(throttle, { user: 'alice', ip: null }, 2, T0);
    assert.equal(wait, 0);
    assert.equal(throttle.retryAfter({ user: 'alice', ip: null }, now + 1), 0);
  });

  it('locks a user name after the limit and says how many seconds to wait', () => {
    const throttle = new LoginThrottle(options);
    const { wait, now } = fail(throttle, { user: 'alice', ip: null }, 3, T0);
    assert.equal(wait, 30);
    assert.equal(throttle.retryAfter({ user: 'alice', ip: null }, now + 10_500), 20);
    assert.equal(throttle.retryAfter({ user: 'alice', ip: null }, now + 30_000), 0);
    // Another name from nowhere in particular is not affected.
    assert.equal(throttle.retryAfter({ user: 'bob', ip: null }, now), 0);
  });

  it('treats case and surrounding spaces as the same name', () => {
    const throttle = new LoginThrottle(options);
    throttle.failed({ user: 'Alice', ip: null }, T0);
    throttle.failed({ user: ' alice ', ip: null }, T0 + 1);
    assert.equal(throttle.failed({ user: 'ALICE', ip: null }, T0 + 2), 30);
  });

  it('doubles each further lock up to the maximum', () => {
    const throttle = new LoginThrottle(options);
    const attempt = { user: 'alice', ip: null };
    const waits: number[] = [];
    let now = T0;
    for (let lock = 0; lock < 5; lock++) {
      const result = fail(throttle, attempt, 3, now);
      waits.push(result.wait);
      now = result.now + result.wait * 1000;
    }
    assert.deepEqual(waits, [30, 60, 120, 120, 120]);
  });

  it('forgets a name after a whole quiet window', () => {
    const throttle = new LoginThrottle(options);
    const attempt = { user: 'alice', ip: null };
    const first = fail(throttle, attempt, 3, T0);
    assert.equal(first.wait, 30);
    // Quiet for longer than the window after the lock ended: the next lock is the first again.
    const later = first.now + 30_000 + 10 * MINUTE + 1;
    assert.equal(fail(throttle, attempt, 3, later).wait, 30);
  });

  it('counts only failures within the window toward a lock', () => {
    const throttle = new LoginThrottle(options);
    const attempt = { user: 'alice', ip: null };
    throttle.failed(attempt, T0);
    throttle.failed(attempt, T0 + 5 * MINUTE);
    // The first failure has left the window: two within it, no lock.
    assert.equal(throttle.failed(attempt, T0 + 10 * MINUTE + 1), 0);
    assert.equal(throttle.failed(attempt, T0 + 10 * MINUTE + 2), 30);
  });

  it('locks an address guessing many names, even names that never failed before', () => {
    const throttle = new LoginThrottle(options);
    for (let i = 0; i < 4; i++)
      assert.equal(throttle.failed({ user: `user${i}`, ip: '10.0.0.9' }, T0 + i), 0);
    assert.equal(throttle.failed({ user: 'user4', ip: '10.0.0.9' }, T0 + 4), 60);
    assert.equal(throttle.retryAfter({ user: 'fresh', ip: '10.0.0.9' }, T0 + 5), 60);
    assert.equal(throttle.retryAfter({ user: 'fresh', ip: '10.0.0.10' }, T0 + 5), 0);
  });

  it('a success clears the name but not the address', () => {
    const throttle = new LoginThrottle(options);
    for (let i = 0; i < 4; i++)
      throttle.failed({ user: i < 2 ? 'alice' : `other${i}`, ip: '10.0.0.9' }, T0 + i);
    throttle.succeeded({ user: 'alice', ip: '10.0.0.9' });
    // alice's two failures are gone: two more do not lock her name...
    throttle.failed({ user: 'alice', ip: '10.0.0.8' }, T0 + 10);
    assert.equal(throttle.failed({ user: 'alice', ip: '10.0.0.8' }, T0 + 11), 0);
    // ...but the address still had four failures: one more locks it.
    assert.equal(throttle.failed({ user: 'mallory', ip: '10.0.0.9' }, T0 + 12), 60);
  });

  it('stays within its bound of remembered names without freeing a locked one', () => {
    const throttle = new LoginThrottle({ ...options, maxKeys: 10 });
    const locked = { user: 'locked', ip: null };
    const { wait, now } = fail(throttle, locked, 3, T0);
    assert.equal(wait, 30);
    // Made-up names sprayed while the lock holds: the oldest of them are dropped, not the lock.
    for (let i = 0; i < 50; i++) throttle.failed({ user: `spray${i}`, ip: null }, now + 1 + i);
    assert.ok(throttle.size <= 10, `remembers ${throttle.size} keys`);
    assert.ok(throttle.retryAfter(locked, now + 100) > 0, 'the locked name is still locked');
  });

  it('a TooManyAttemptsError is a 429 that carries the wait', () => {
    const error = new TooManyAttemptsError(42);
    assert.equal(error.status, 429);
    assert.equal(error.retryAfterSeconds, 42);
    assert.match(error.message, /try again in 42 s/);
  });
});
