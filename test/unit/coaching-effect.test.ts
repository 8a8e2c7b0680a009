import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applicationTags,
  appliedVersions,
  compareOutcomes,
  compareRates,
  successRate,
  type TraceOutcome,
} from '../../coaching/coaching-effect.js';
import { renderCoachingEffect } from '../../coaching/coaching-effect-render.js';
import type { CoachingEffect } from '../../coaching/coaching-effect-service.js';

const outcome = (feedback: number | null, judgeScores = 0, judgeFailures = 0): TraceOutcome => ({
  feedback,
  judgeScores,
  judgeFailures,
});
const close = (actual: number | undefined, expected: number, what: string) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 0.0011, `${what}: ${actual} ≠ ${expected}`);

describe("a coaching's measured effect", () => {
  it('counts feedback only where there is a thumbs up or down, and the online judge only where it judged', () => {
    const withIt = [outcome(1, 1, 0), outcome(1), outcome(0, 2, 1), outcome(-1), outcome(null, 1, 0)];
    const without = [outcome(-1, 1, 1), outcome(null), outcome(1)];
    const e = compareOutcomes(withIt, without);
    assert.deepEqual([e.feedback.with.successes, e.feedback.with.traces], [2, 3]);
    assert.deepEqual([e.feedback.without.successes, e.feedback.without.traces], [1, 2]);
    assert.deepEqual([e.onlineJudge.with.successes, e.onlineJudge.with.traces], [2, 3]);
    assert.deepEqual([e.onlineJudge.without.successes, e.onlineJudge.without.traces], [0, 1]);
    assert.equal(e.feedback.difference, 0.1667);
  });

  it('gives each rate its Wilson interval and no rate without traces', () => {
    assert.deepEqual(successRate([null, null]), { traces: 0, successes: 0, rate: null, interval: null });
    // Newcombe (1998), table I: 81/263 → 0.2553 to 0.3662.
    const r = successRate([...Array<boolean>(81).fill(true), ...Array<boolean>(182).fill(false)]);
    close(r.interval?.[0], 0.2553, 'lower');
    close(r.interval?.[1], 0.3662, 'upper');
    const all = successRate([true, true, true]);
    assert.equal(all.rate, 1);
    assert.equal(all.interval?.[1], 1);
    assert.ok((all.interval?.[0] ?? 1) < 0.5, 'three of three is weak evidence');
  });

  it("gives the difference Newcombe's hybrid score interval, and none when a side has no traces", () => {
    const rate = (s: number, n: number) =>
      successRate([...Array<boolean>(s).fill(true), ...Array<boolean>(n - s).fill(false)]);
    // Newcombe (1998), table II, example (a): 56/70 − 48/80 → 0.0524 to 0.3339.
    const c = compareRates(rate(56, 70), rate(48, 80));
    assert.equal(c.difference, 0.2);
    close(c.interval?.[0], 0.0524, 'lower');
    close(c.interval?.[1], 0.3339, 'upper');
    const none = compareRates(rate(3, 4), successRate([]));
    assert.equal(none.difference, null);
    assert.equal(none.interval, null);
  });

  it('reads the versions a trace applied from flywheel.coaching.ids, as a list or one string', () => {
    const id = 'coa_0123456789ab';
    assert.deepEqual(
      appliedVersions(
        { 'flywheel.coaching.ids': [`${id}@2`, 'coa_ffffffffffff@1', `${id}@1`, `${id}@2`] },
        id,
      ),
      [1, 2],
    );
    assert.deepEqual(appliedVersions({ 'flywheel.coaching.ids': `${id}@3` }, id), [3]);
    assert.deepEqual(appliedVersions({ 'flywheel.coaching.ids': [`${id}@x`, `${id}@0`, id, 7] }, id), []);
    assert.deepEqual(appliedVersions({}, id), []);
    assert.deepEqual(applicationTags(id, 3), [`${id}@1`, `${id}@2`, `${id}@3`]);
  });

  it('renders where it applied, the comparison, the marks and the thresholds', () => {
    const effect: CoachingEffect = {
      coaching: {
        id: 'coa_0123456789ab',
        agent: 'airline',
        version: 2,
        status: 'active',
        situation: 'When a customer asks to move a basic-economy flight',
        threshold: 0.42,
        authorThreshold: 0.32,
      },
      window: { from: '2026-11-07T00:00:00.000Z', to: '2026-12-07T00:00:00.000Z', days: 30 },
      applied: {
        traces: 1,
        capped: false,
        shown: [
          {
            traceId: 't1',
            startedAt: '2026-12-06T10:00:00.000Z',
            versions: [1],
            step: 2,
            feedback: -1,
            onlineJudge: 'fail',
            marks: [{ reviewer: 'user:rita', verdict: 'wrong' }],
          },
        ],
      },
      baseline: { rule: '', scanned: 10, capped: false, similar: 2, embedder: 'local' },
      success: compareOutcomes([outcome(-1, 1, 1)], [outcome(1), outcome(-1)]),
      marks: { correct: 0, wrong: 1, list: [] },
      thresholds: [
        { version: 1, threshold: 0.32, createdBy: 'user:rita', reason: 'coaching created', createdAt: '' },
        { version: 2, threshold: 0.42, createdBy: 'user:rita', reason: 'marks', createdAt: '' },
      ],
    };
    const text = renderCoachingEffect(effect);
    assert.match(text, /threshold 0.42 \(author's 0.32\)/);
    assert.match(text, /applied in 1 trace\(s\); 2 similar trace\(s\) without it \(of 10 scanned\)/);
    assert.match(
      text,
      /feedback +with 0% \(0\/1; 95% 0%-79%\) {2}without 50% \(1\/2;.*difference -50 points/,
    );
    assert.match(text, /online judge +with 0% \(0\/1;.*without no traces/);
    assert.match(text, /v2 {2}0.42 {2}user:rita {2}marks/);
    assert.match(
      text,
      /t1 {2}2026-12-06T10:00:00.000Z {2}v1 at step 2 {2}feedback -1 {2}judge fail {2}wrong \(user:rita\)/,
    );
  });
});
