import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideGate } from '../../core/gate-decision.js';
import { analyseStep } from '../../core/rollout-analysis.js';
import { bucketOf, servesCandidate } from '../../core/sticky-bucket.js';
import { assignSplit } from '../../core/dataset-split.js';
import { outcomeMatch } from '../../core/evaluator.js';

const config = { thresholds: { outcome_match: 0.7 }, maxRegression: 0.02, minEvalExamples: 5 };

describe('regression gate', () => {
  it('passes a candidate that clears the threshold and regresses nowhere', () => {
    const r = decideGate(
      { outcome_match: 0.8, task_completion: 0.8 },
      { outcome_match: 0.5, task_completion: 0.6 },
      20,
      config,
    );
    assert.equal(r.passed, true);
    assert.equal(r.failingAssertion, null);
  });
  it('fails a candidate whose judge dimension regressed despite a better primary score, naming it first', () => {
    const r = decideGate(
      { outcome_match: 0.9, task_completion: 0.5 },
      { outcome_match: 0.5, task_completion: 0.6 },
      20,
      config,
    );
    assert.equal(r.passed, false);
    assert.equal(r.failingAssertion, 'no_regression:task_completion');
    assert.equal(r.assertions[0]!.name, 'no_regression:task_completion');
  });
  it('fails below the threshold, on too few examples, and on no improvement', () => {
    assert.equal(
      decideGate({ outcome_match: 0.65 }, { outcome_match: 0.5 }, 20, config).failingAssertion,
      'threshold:outcome_match',
    );
    assert.equal(
      decideGate({ outcome_match: 0.9 }, { outcome_match: 0.5 }, 3, config).failingAssertion,
      'min_eval_examples',
    );
    assert.equal(
      decideGate({ outcome_match: 0.8 }, { outcome_match: 0.8 }, 20, config).failingAssertion,
      'improves:outcome_match',
    );
  });
});

describe('rollout analysis', () => {
  const cfg = { minSamples: 10, maxFailureRateIncrease: 0.05 };
  it('is inconclusive without enough traffic', () => {
    assert.equal(
      analyseStep({ samples: 5, failures: 0 }, { samples: 100, failures: 10 }, cfg).verdict,
      'inconclusive',
    );
  });
  it('fails when the candidate fails more often than the baseline allows', () => {
    assert.equal(
      analyseStep({ samples: 50, failures: 10 }, { samples: 100, failures: 10 }, cfg).verdict,
      'failed',
    );
  });
  it('succeeds within tolerance', () => {
    assert.equal(
      analyseStep({ samples: 50, failures: 7 }, { samples: 100, failures: 10 }, cfg).verdict,
      'successful',
    );
  });
});

describe('sticky bucketing', () => {
  it('gives the same unit the same answer every time', () => {
    for (let i = 0; i < 200; i++)
      assert.equal(servesCandidate(`u${i}`, 'r1', 30), servesCandidate(`u${i}`, 'r1', 30));
  });
  it('keeps a unit on the candidate as the weight grows', () => {
    for (let i = 0; i < 2000; i++)
      if (servesCandidate(`u${i}`, 'r1', 10)) assert.ok(servesCandidate(`u${i}`, 'r1', 50));
  });
  it('serves the candidate to about the weight share of units', () => {
    for (const w of [5, 25, 50, 90]) {
      const n = 20_000;
      let hits = 0;
      for (let i = 0; i < n; i++) if (servesCandidate(`user-${i}`, 'rollout-x', w)) hits++;
      assert.ok(Math.abs(hits / n - w / 100) < 0.015, `weight ${w}: ${hits / n}`);
    }
    assert.ok(bucketOf('a', 'r') >= 0 && bucketOf('a', 'r') < 10_000);
  });
});

describe('splits and the outcome evaluator', () => {
  it('assigns a trace the same split every time, about 40% to eval', () => {
    let evals = 0;
    for (let i = 0; i < 5000; i++) {
      assert.equal(assignSplit(`t${i}`, 3), assignSplit(`t${i}`, 3));
      if (assignSplit(`t${i}`, 3) === 'eval') evals++;
    }
    assert.ok(Math.abs(evals / 5000 - 0.4) < 0.03);
  });
  it('matches action and the expected arguments, ignoring extra arguments', () => {
    assert.equal(
      outcomeMatch(
        { action: 'cancel', arguments: { id: 'A' } },
        { action: 'cancel', arguments: { id: 'A', extra: 1 } },
      ).value,
      1,
    );
    assert.equal(
      outcomeMatch({ action: 'cancel', arguments: { id: 'A' } }, { action: 'cancel', arguments: { id: 'B' } })
        .value,
      0,
    );
    assert.equal(
      outcomeMatch({ action: 'cancel', arguments: {} }, { action: 'respond', arguments: {} }).value,
      0,
    );
  });
});
