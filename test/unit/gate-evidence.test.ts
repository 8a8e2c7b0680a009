import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideGate, type ExampleScores } from '../../release/gate-decision.js';
import { minimumDetectableEffect } from '../../release/minimum-detectable-effect.js';
import { GateConfig } from '../../schemas/gate-config.js';
import { deriveSlices, REGRESSION_SLICE, REPRESENTATIVE_SLICE } from '../../datasets/example-slices.js';
import { staleExamples } from '../../datasets/stale-examples.js';

/** n eval examples: the first `ones` score 1 on outcome_match, the rest 0. */
const scored = (n: number, ones: number, slices: (i: number) => string[] = () => []): ExampleScores[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `e${i}`,
    split: 'eval' as const,
    slices: slices(i),
    scores: { outcome_match: i < ones ? 1 : 0 },
  }));

describe('the gate decides an improvement on evidence', () => {
  const defaults = GateConfig.parse({});

  it('has no absolute bar by default: a gain from 44 % to 56 % ships', () => {
    assert.deepEqual(defaults.assertions, []);
    const r = decideGate({ candidate: scored(16, 9), baseline: scored(16, 7), config: defaults, seed: 1 });
    assert.equal(r.verdict, 'pass', r.failingAssertion ?? '');
  });

  it('judges a small eval on the point mean and a large one on the interval', () => {
    // 15 examples: one more right is a gain on the point mean (the interval could not show it).
    const small = decideGate({
      candidate: scored(15, 8),
      baseline: scored(15, 7),
      config: defaults,
      seed: 1,
    });
    assert.equal(small.verdict, 'pass');
    assert.match(small.assertions.find((a) => a.name === 'improves:outcome_match')!.detail, /15 here/);
    // 40 examples, one more right: the interval includes zero, so it is noise.
    const noise = decideGate({
      candidate: scored(40, 21),
      baseline: scored(40, 20),
      config: defaults,
      seed: 1,
    });
    assert.equal(noise.failingAssertion, 'improves:outcome_match');
    assert.match(noise.assertions[0]!.detail, /whole interval above it/);
    // 40 examples, eight more right and none worse: the interval clears zero.
    const real = decideGate({
      candidate: scored(40, 28),
      baseline: scored(40, 20),
      config: defaults,
      seed: 1,
    });
    assert.equal(real.verdict, 'pass', real.failingAssertion ?? '');
  });

  it('can be told to always or never require the interval', () => {
    const always = GateConfig.parse({ requireImprovement: { significant: true } });
    const never = GateConfig.parse({ requireImprovement: { significant: false } });
    const c = scored(40, 21);
    const b = scored(40, 20);
    assert.equal(decideGate({ candidate: c, baseline: b, config: never, seed: 1 }).verdict, 'pass');
    const small = scored(15, 8);
    assert.equal(
      decideGate({ candidate: small, baseline: scored(15, 7), config: always, seed: 1 }).failingAssertion,
      'improves:outcome_match',
    );
  });

  it('reports the minimum detectable effect overall and per slice', () => {
    const r = decideGate({
      candidate: scored(40, 28, (i) => (i % 2 ? [REGRESSION_SLICE] : [])),
      baseline: scored(40, 20, (i) => (i % 2 ? [REGRESSION_SLICE] : [])),
      config: defaults,
      seed: 1,
    });
    const overall = r.minimumDetectableEffect!.outcome_match!;
    // p = 0.5, n = 40, 95 %, 80 % power: (1.960 + 0.842) · √(2 · 0.2564 / 40) ≈ 0.317.
    assert.ok(Math.abs(overall - 0.3173) < 0.002, String(overall));
    const slice = r.slices!.find((s) => s.slice === REGRESSION_SLICE && s.dimension === 'outcome_match')!;
    assert.ok(slice.minimumDetectableEffect! > overall, 'half the examples detect less');
  });
});

describe('an uncalibrated judge under the default policy (report)', () => {
  const rows = (n: number, outcome: (i: number) => number, judge: (i: number) => number): ExampleScores[] =>
    Array.from({ length: n }, (_, i) => ({
      id: `e${i}`,
      split: 'eval' as const,
      slices: [],
      scores: { outcome_match: outcome(i), task_completion: judge(i) },
    }));
  const uncalibrated = { task_completion: '5 human labels (need ≥ 8)' };

  it('decides on the trusted dimensions and shows the judge outside the verdict', () => {
    // The uncalibrated judge says the candidate got much worse; gold expectations say better.
    const r = decideGate({
      candidate: rows(
        16,
        (i) => (i < 12 ? 1 : 0),
        () => 0,
      ),
      baseline: rows(
        16,
        (i) => (i < 6 ? 1 : 0),
        () => 1,
      ),
      config: GateConfig.parse({}),
      uncalibrated,
      seed: 1,
    });
    assert.equal(r.verdict, 'pass', r.failingAssertion ?? '');
    assert.deepEqual(
      Object.keys(r.composite!.weights),
      ['outcome_match'],
      'the composite leaves the judge out',
    );
    const judge = r.assertions.find((a) => a.name === 'no_regression:task_completion')!;
    assert.equal(judge.gating, false);
    assert.equal(judge.passed, false, 'its own result is kept');
    assert.match(judge.detail, /not gating: the task_completion judge is not calibrated/);
    const calibration = r.assertions.find((a) => a.name === 'calibration:task_completion')!;
    assert.equal(calibration.gating, false);
    // Non-gating rows come last.
    assert.ok(r.assertions.findIndex((a) => a.gating === false) > r.assertions.findIndex((a) => a.passed));
  });

  it('still needs a trusted measurement of the improvement', () => {
    const config = GateConfig.parse({ requireImprovement: { dimension: 'task_completion' } });
    const r = decideGate({
      candidate: rows(
        16,
        () => 1,
        () => 1,
      ),
      baseline: rows(
        16,
        () => 1,
        () => 0,
      ),
      config,
      uncalibrated,
      seed: 1,
    });
    assert.equal(r.verdict, 'inconclusive');
    assert.equal(r.failingAssertion, 'improves:task_completion');
  });
});

describe('minimumDetectableEffect', () => {
  it('shrinks with the square root of the sample and is null without one', () => {
    const at = (n: number) =>
      minimumDetectableEffect(
        scored(n, n / 2).map((e) => e.scores.outcome_match!),
        0.95,
      )!;
    assert.ok(Math.abs(at(40) / at(160) - 2) < 0.05, String(at(40) / at(160)));
    assert.equal(minimumDetectableEffect([], 0.95), null);
    assert.equal(minimumDetectableEffect([0, 1], 0.95), 1, 'capped: a [0, 1] score moves by at most 1');
  });
  it('does not claim to see everything on a constant production side', () => {
    const m = minimumDetectableEffect(new Array(20).fill(0), 0.95)!;
    assert.ok(m > 0.1 && m < 1, String(m));
  });
});

describe('the regression suite and the representative slice', () => {
  it('tags confirmed failures and randomly sampled traces', () => {
    assert.deepEqual(deriveSlices({ confirmedFailure: true, clusterCategory: 'planning' }), [
      'category:planning',
      REGRESSION_SLICE,
    ]);
    assert.deepEqual(deriveSlices({ sampledAtRandom: true }), [REPRESENTATIVE_SLICE]);
  });
  it('is never retired as stale', () => {
    const old = new Date('2020-01-01T00:00:00Z');
    const stale = staleExamples(
      [
        { key: 'suite', source: 'cycle', createdAt: old, slices: [REGRESSION_SLICE] },
        { key: 'plain', source: 'cycle', createdAt: old, slices: [] },
      ],
      30,
      new Date('2026-12-06T00:00:00Z'),
    );
    assert.deepEqual(
      stale.map((s) => s.key),
      ['plain'],
    );
  });
});
