import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keepFromDay, planRetention, type TracePartition } from '../../traces/retention-plan.js';
import { DEFAULT_RETENTION_DAYS, storedRetentionDays } from '../../schemas/agent-config.js';

const NOW = new Date('2026-03-31T12:00:00Z');
const days = (from: string, n: number): TracePartition[] =>
  Array.from({ length: n }, (_, i) => {
    const day = new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10);
    return { name: `traces_${day.replace(/-/g, '')}`, day };
  });

describe('trace retention plan', () => {
  it('keeps the day retentionDays before now and everything after it', () => {
    assert.equal(keepFromDay(NOW, 7), '2026-03-24');
    assert.equal(keepFromDay(new Date('2026-03-31T00:00:00Z'), 1), '2026-03-30');
  });

  it("drops a partition only once every agent's retention has passed it", () => {
    const plan = planRetention(
      NOW,
      days('2026-02-20', 40),
      [
        { agent: 'short', retentionDays: 7 },
        { agent: 'long', retentionDays: 30 },
      ],
      30,
    );
    assert.deepEqual(
      plan.drop.map((p) => p.day),
      days('2026-02-20', 9).map((p) => p.day),
      'partitions before 2026-03-01 (30 days) go whole',
    );
    assert.ok(plan.drop.every((p) => p.day < keepFromDay(NOW, 30)));
  });

  it("deletes a short-retention agent's rows from partitions the others still keep, and nothing of the others", () => {
    const plan = planRetention(
      NOW,
      days('2026-02-20', 40),
      [
        { agent: 'short', retentionDays: 7 },
        { agent: 'long', retentionDays: 30 },
      ],
      30,
    );
    assert.ok(plan.purge.every((p) => p.agent === 'short'));
    assert.deepEqual(
      plan.purge.map((p) => p.partition.day),
      days('2026-03-01', 23).map((p) => p.day),
      'from the first kept partition up to the day before short keeps from (2026-03-24)',
    );
    assert.ok(plan.purge.every((p) => p.before === '2026-03-24T00:00:00.000Z'));
  });

  it('with one setting for all it drops what the old longest-setting rule dropped and purges nothing', () => {
    const plan = planRetention(NOW, days('2026-02-20', 40), [{ agent: 'a', retentionDays: 10 }], 30);
    assert.equal(plan.purge.length, 0);
    assert.ok(plan.drop.every((p) => p.day < '2026-03-21'));
    assert.equal(plan.drop.length, 29);
  });

  it('uses the fallback when no agent is registered, and refuses a retention below one day', () => {
    assert.equal(planRetention(NOW, days('2026-02-20', 40), [], 30).drop.length, 9);
    assert.throws(
      () => planRetention(NOW, [], [{ agent: 'x', retentionDays: 0 }], 30),
      /x must be a whole number/,
    );
  });

  it('never touches partitions of today or the days ahead', () => {
    const plan = planRetention(NOW, days('2026-03-30', 4), [{ agent: 'a', retentionDays: 1 }], 30);
    assert.deepEqual(plan.drop, []);
    assert.deepEqual(plan.purge, []);
  });

  it("reads an agent's retention on its own: absent is the default, invalid is none, other sections do not matter", () => {
    assert.equal(storedRetentionDays({}), DEFAULT_RETENTION_DAYS);
    assert.equal(storedRetentionDays({ retentionDays: 7, sampling: 'not an object' }), 7);
    for (const bad of [0, -1, 2.5, '7']) assert.equal(storedRetentionDays({ retentionDays: bad }), undefined);
  });
});
