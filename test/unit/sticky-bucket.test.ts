import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUCKETS, bucketOf, servesCandidate } from '../../release/sticky-bucket.js';

const units = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

describe('sticky bucketing', () => {
  it('gives a unit the same bucket and the same answer on every call', () => {
    for (const unit of units.slice(0, 500)) {
      const bucket = bucketOf(unit, 'rollout-a');
      assert.ok(bucket >= 0 && bucket < BUCKETS && Number.isInteger(bucket));
      for (let call = 0; call < 3; call++) {
        assert.equal(bucketOf(unit, 'rollout-a'), bucket);
        assert.equal(servesCandidate(unit, 'rollout-a', 37), bucket < 3700);
      }
    }
  });

  it('is monotone in the weight: a unit that sees the candidate keeps it as the weight grows', () => {
    const weights = [0, 1, 5, 10, 25, 50, 75, 99, 100];
    for (const unit of units.slice(0, 5000)) {
      let seen = false;
      for (const w of weights) {
        const candidate = servesCandidate(unit, 'rollout-a', w);
        if (seen) assert.ok(candidate, `${unit} left the candidate at ${w}%`);
        seen ||= candidate;
      }
      assert.equal(servesCandidate(unit, 'rollout-a', 0), false);
      assert.equal(servesCandidate(unit, 'rollout-a', 100), true);
    }
    const at10 = units.filter((u) => servesCandidate(u, 'rollout-a', 10));
    assert.ok(at10.length > 0);
    assert.ok(at10.every((u) => servesCandidate(u, 'rollout-a', 50)));
  });

  it('serves the candidate to a share of 20k units within 4σ of the weight', () => {
    for (const weight of [1, 5, 10, 25, 50, 90]) {
      const p = weight / 100;
      const observed = units.filter((u) => servesCandidate(u, 'rollout-share', weight)).length;
      const sigma = Math.sqrt(units.length * p * (1 - p));
      assert.ok(
        Math.abs(observed - units.length * p) <= 4 * sigma,
        `${weight}%: ${observed} of ${units.length} (expected ${units.length * p} ± ${Math.round(4 * sigma)})`,
      );
    }
  });

  it('reshuffles units between rollouts: a new rollout picks an independent candidate set', () => {
    const a = new Set(units.filter((u) => servesCandidate(u, 'rollout-a', 50)));
    const b = units.filter((u) => servesCandidate(u, 'rollout-b', 50));
    const both = b.filter((u) => a.has(u)).length;
    // Independent halves overlap on a quarter of the units (σ ≈ 61 for 20k units).
    const expected = units.length / 4;
    assert.ok(Math.abs(both - expected) <= 4 * Math.sqrt(units.length * 0.25 * 0.75), `overlap ${both}`);
    const moved = units.filter((u) => bucketOf(u, 'rollout-a') !== bucketOf(u, 'rollout-b')).length;
    assert.ok(moved > units.length * 0.99, `${moved} units changed bucket`);
  });
});
