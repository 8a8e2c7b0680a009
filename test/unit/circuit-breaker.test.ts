import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker } from '../../llm/circuit-breaker.js';
import { FaultInjector, parseFaultSpec } from '../simulator/fault-plan.js';

describe('circuit breaker', () => {
  it('opens after the threshold of faults in a row, lets one probe through after the cooldown, and closes on its success', () => {
    const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 10_000 });
    b.failure(0);
    b.failure(1);
    b.success(); // a success in between resets the count
    b.failure(2);
    b.failure(3);
    assert.equal(b.state, 'closed');
    b.failure(4);
    assert.equal(b.state, 'open');
    const refused = b.request(5_004);
    assert.deepEqual(refused, { allowed: false, retryInMs: 5_000, failures: 3 });
    assert.deepEqual(b.request(10_004), { allowed: true }, 'the probe');
    assert.equal(b.state, 'half-open');
    assert.equal(b.request(10_005).allowed, false, 'one probe at a time');
    b.success();
    assert.equal(b.state, 'closed');
    assert.deepEqual(b.request(10_006), { allowed: true });
  });

  it('a failed probe opens the circuit again for a full cooldown', () => {
    const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1_000 });
    b.failure(0);
    assert.equal(b.request(1_000).allowed, true);
    b.failure(1_000);
    assert.equal(b.state, 'open');
    const again = b.request(1_500);
    assert.equal(again.allowed, false);
    assert.equal(again.allowed === false && again.retryInMs, 1000, 'never asks to wait less than a second');
    assert.equal(b.request(2_000).allowed, true);
  });
});

describe('simulator fault plan', () => {
  it('parses the FLYWHEEL_SIMULATOR_FAULTS form and refuses what it cannot read, saying the form', () => {
    assert.deepEqual(parseFaultSpec('judge:429:0.2:retry=3, teacher:500:0.1:burst=3:times=9'), [
      { role: 'judge', kind: '429', rate: 0.2, burst: 1, retryAfterSeconds: 3, delayMs: 2000 },
      { role: 'teacher', kind: '500', rate: 0.1, burst: 3, retryAfterSeconds: 1, delayMs: 2000, times: 9 },
    ]);
    assert.throws(() => parseFaultSpec('judge:418:0.5'), /role:kind:rate.*429\|500/);
    assert.throws(() => parseFaultSpec('judge:429:2'), /role:kind:rate/);
    assert.throws(() => parseFaultSpec('judge:429:0.5:often=1'), /unknown setting "often=1"/);
  });

  it('strikes at the rate, in bursts per role, at most `times`, the same way for the same seed', () => {
    const rules = parseFaultSpec('judge:500:0.3:burst=3:times=12,*:slow:0.1');
    const run = (seed: number) => {
      const injector = new FaultInjector(rules, seed);
      return Array.from(
        { length: 400 },
        (_, i) => injector.next(i % 2 ? 'sim-judge' : 'sim-agent')?.kind ?? '-',
      );
    };
    const first = run(7);
    assert.deepEqual(run(7), first, 'same seed, same faults');
    assert.notDeepEqual(run(8), first);
    const judge = first.filter((_, i) => i % 2 === 1);
    assert.equal(judge.filter((k) => k === '500').length, 12, 'at most `times`');
    // Bursts: the judge's 500s come in runs of consecutive judge requests, 3 per burst.
    const runs: number[] = [];
    let current = 0;
    for (const k of [...judge, '-']) {
      if (k === '500') current += 1;
      else if (current > 0) {
        runs.push(current);
        current = 0;
      }
    }
    assert.ok(runs.length > 0 && runs.every((n) => n % 3 === 0), JSON.stringify(runs));
    const agentSlow = first.filter((k, i) => i % 2 === 0 && k === 'slow').length;
    assert.ok(agentSlow > 5 && agentSlow < 40, `about 10 % of 200 agent requests are slow (${agentSlow})`);
  });
});
