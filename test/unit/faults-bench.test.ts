import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareSnapshots } from '../../bench/cycle-snapshot.js';
import { FAULT_KINDS, FaultSchedule } from '../../bench/fault-schedule.js';
import { paidCallReport, type LoggedCall } from '../../bench/paid-calls.js';

const call = (key: string, startedAt: number, endedAt = startedAt + 100, status = 200): LoggedCall => ({
  model: 'sim-judge',
  key,
  status,
  startedAt,
  endedAt,
});

describe('bench:faults accounting', () => {
  it('the same seed gives the same faults in the same order', () => {
    const a = new FaultSchedule(7, { min: 1000, max: 5000 });
    const b = new FaultSchedule(7, { min: 1000, max: 5000 });
    const take = (s: FaultSchedule) => Array.from({ length: 50 }, () => s.next());
    const planA = take(a);
    assert.deepEqual(planA, take(b));
    assert.notDeepEqual(planA, take(new FaultSchedule(8, { min: 1000, max: 5000 })));
    assert.ok(planA.every((f) => f.gapMs >= 1000 && f.gapMs <= 5000));
  });

  it('draws every kind over a long schedule, and no 5xx burst longer than the client retries absorb', () => {
    const s = new FaultSchedule(1, { min: 0, max: 0 });
    const plan = Array.from({ length: 2000 }, () => s.next());
    for (const kind of FAULT_KINDS)
      assert.ok(
        plan.some((f) => f.kind === kind),
        kind,
      );
    const fiveHundreds = plan.flatMap((f) =>
      f.burst && f.burst.kind.startsWith('5') ? [f.burst.count] : [],
    );
    assert.ok(fiveHundreds.length > 0);
    assert.ok(Math.max(...fiveHundreds) <= 2);
  });

  it('counts a paid call repeated beyond the twin as a duplicate', () => {
    const report = paidCallReport(
      [call('a', 0), call('a', 5000), call('b', 0)],
      [call('a', 0), call('b', 0)],
      [],
    );
    assert.equal(report.repeated, 1);
    assert.equal(report.duplicatePaidCalls, 1);
    assert.equal(report.examples[0]?.key, 'a');
  });

  it('allows the repeats the twin makes too, and ignores faults and calls the twin never made', () => {
    const report = paidCallReport(
      [call('a', 0), call('a', 10), call('a', 20, 30, 429), call('resampled', 40)],
      [call('a', 0), call('a', 10)],
      [],
    );
    assert.equal(report.duplicatePaidCalls, 0);
    assert.equal(report.repeated, 0);
    assert.equal(report.notInTwin, 1);
  });

  it('excuses a repeat of an answer that was in flight at a kill -9, and only one per such answer', () => {
    const kill = 1000;
    const inFlight = call('a', 900, 950); // answered 50 ms before the kill: not yet cached
    const report = paidCallReport([inFlight, call('a', 3000), call('a', 6000)], [call('a', 0)], [kill]);
    assert.equal(report.repeated, 2);
    assert.equal(report.repeatedAfterCrash, 1);
    assert.equal(report.duplicatePaidCalls, 1);
    const long = paidCallReport([call('a', 0, 100), call('a', 9000)], [call('a', 0)], [5000]);
    assert.equal(long.duplicatePaidCalls, 1, 'an answer long cached before the kill excuses nothing');
  });

  it('finds the tables whose rows differ between a cycle and its twin', () => {
    const same = { cycleId: 'c', tables: { scores: ['{"v":1}', '{"v":2}'], samples: ['{"t":"x"}'] } };
    assert.deepEqual(compareSnapshots(same, structuredClone(same)), []);
    const other = {
      cycleId: 'c',
      tables: { scores: ['{"v":1}', '{"v":2}', '{"v":2}'], samples: ['{"t":"x"}'] },
    };
    const differences = compareSnapshots(other, same);
    assert.equal(differences.length, 1);
    assert.deepEqual(differences[0], {
      table: 'scores',
      rowsFaulted: 3,
      rowsTwin: 2,
      onlyFaulted: ['{"v":2}'],
      onlyTwin: [],
    });
  });
});
