import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { equivalence, pairedDifference } from '../../bench/paired-difference.js';

describe('paired difference (Hodges–Lehmann with the Wilcoxon interval)', () => {
  it('estimates a constant shift exactly', () => {
    const b = [3, 9, 1, 7, 4, 8, 2, 6, 5, 10, 11, 12];
    const d = pairedDifference(
      b.map((x) => x + 2),
      b,
    );
    assert.deepEqual([d.estimate, d.low, d.high], [2, 2, 2]);
  });

  it('takes the median Walsh average and the Wilcoxon critical ranks as bounds', () => {
    // Differences 1..5: 15 Walsh averages 1, 1.5, 2, 2, 2.5, 2.5, 3, 3, 3, 3.5, 3.5, 4, 4, 4.5, 5.
    // With 5 pairs the 95% critical count is 0, so the interval spans them all.
    const d = pairedDifference([1, 2, 3, 4, 5], [0, 0, 0, 0, 0]);
    assert.deepEqual([d.estimate, d.low, d.high], [3, 1, 5]);
    // 20 pairs: C = floor(105 − 1.96·√717.5) = 52, so the bounds are the 53rd values from each end.
    const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
    const walsh: number[] = [];
    for (let i = 0; i < 20; i++) for (let j = i; j < 20; j++) walsh.push((twenty[i]! + twenty[j]!) / 2);
    walsh.sort((x, y) => x - y);
    const wide = pairedDifference(twenty, new Array<number>(20).fill(0));
    assert.equal(wide.low, walsh[52]);
    assert.equal(wide.high, walsh[walsh.length - 53]);
    assert.equal(wide.estimate, 10.5);
  });

  it('reads better, equivalent, worse and inconclusive against the margin', () => {
    const at = (low: number, high: number) => ({ estimate: (low + high) / 2, low, high, confidence: 0.95 });
    assert.equal(equivalence(at(-3, -1), 1), 'better');
    assert.equal(equivalence(at(-0.5, 0.8), 1), 'equivalent');
    assert.equal(equivalence(at(0.2, 0.9), 1), 'equivalent', 'worse by less than the margin');
    assert.equal(equivalence(at(0.5, 3), 1), 'worse');
    assert.equal(equivalence(at(-2, 3), 1), 'inconclusive');
  });

  it('refuses unpaired samples', () => {
    assert.throws(() => pairedDifference([1, 2], [1]), /paired samples/);
  });
});
