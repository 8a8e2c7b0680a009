import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  agreementReport,
  cohensKappa,
  fleissKappa,
  krippendorffAlpha,
  pairwiseCohensKappa,
  percentAgreement,
  type Rating,
} from '../../annotation/inter-annotator-agreement.js';

const close = (actual: number | null, expected: number, what: string) => {
  assert.ok(actual !== null, `${what} is defined`);
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} ≠ ${expected}`);
};

/** Rows of a table `item → values per rater` as ratings; null is a missing value. */
function table<V>(raters: string[], rows: (V | null)[][]): Rating<V>[] {
  return rows.flatMap((row, i) =>
    row.flatMap((value, j) => (value === null ? [] : [{ item: `u${i + 1}`, rater: raters[j]!, value }])),
  );
}

describe("Cohen's κ", () => {
  it('matches a hand-computed 2×2 table', () => {
    // Ten items, raters A and B:        B pass  B fail
    //                          A pass      5       1     (A: 6 pass)
    //                          A fail      2       2     (A: 4 fail)
    //                                   (B: 7)   (B: 3)
    // p_o = (5 + 2) / 10 = 0.7
    // p_e = 0.6 · 0.7 + 0.4 · 0.3 = 0.42 + 0.12 = 0.54
    // κ   = (0.7 − 0.54) / (1 − 0.54) = 0.16 / 0.46 = 8 / 23
    const times = (n: number, pair: [string, string]) => Array.from({ length: n }, () => pair);
    const pairs = [
      ...times(5, ['pass', 'pass']),
      ...times(1, ['pass', 'fail']),
      ...times(2, ['fail', 'pass']),
      ...times(2, ['fail', 'fail']),
    ];
    close(cohensKappa(pairs), 8 / 23, 'κ');
  });

  it('is 1 for perfect agreement, 0 at chance level, negative below chance, and undefined without variation', () => {
    close(
      cohensKappa([
        ['pass', 'pass'],
        ['fail', 'fail'],
      ]),
      1,
      'perfect',
    );
    // A: pass, pass, fail, fail; B: pass, fail, pass, fail → p_o = 0.5, p_e = 0.5·0.5 + 0.5·0.5 = 0.5 → κ = 0.
    close(
      cohensKappa([
        ['pass', 'pass'],
        ['pass', 'fail'],
        ['fail', 'pass'],
        ['fail', 'fail'],
      ]),
      0,
      'chance',
    );
    // Always opposite: p_o = 0, p_e = 0.5 → κ = −0.5 / 0.5 = −1.
    close(
      cohensKappa([
        ['pass', 'fail'],
        ['fail', 'pass'],
      ]),
      -1,
      'opposite',
    );
    // Everyone says pass: p_e = 1, κ = 0/0.
    assert.equal(
      cohensKappa([
        ['pass', 'pass'],
        ['pass', 'pass'],
      ]),
      null,
    );
    assert.equal(cohensKappa([]), null);
  });

  it('pairs raters only on the items both labelled', () => {
    // a and b share u1, u2 (agree, disagree); c shares u2 with b only (agree) and u3 with nobody.
    const ratings = table(
      ['a', 'b', 'c'],
      [
        ['pass', 'pass', null],
        ['pass', 'fail', 'fail'],
        [null, null, 'pass'],
      ],
    );
    const pairs = pairwiseCohensKappa(ratings);
    assert.deepEqual(
      pairs.map((p) => [p.raters.join('-'), p.items]),
      [
        ['a-b', 2],
        ['a-c', 1],
        ['b-c', 1],
      ],
    );
    // a-b: p_o = 1/2; a says pass twice (p_e = 1 · 1/2 = 1/2) → κ = 0.
    close(pairs[0]!.kappa, 0, 'a-b');
  });
});

describe("Fleiss' κ and percent agreement", () => {
  // Four items, three raters, two values:
  //   u1: pass pass pass → n_pass = 3, n_fail = 0 → P_1 = (3·2 + 0) / (3·2) = 1
  //   u2: pass pass fail → P_2 = (2·1 + 1·0) / 6 = 1/3
  //   u3: pass fail fail → P_3 = 1/3
  //   u4: fail fail fail → P_4 = 1
  //   P̄ = (1 + 1/3 + 1/3 + 1) / 4 = 2/3
  //   p_pass = (3 + 2 + 1 + 0) / 12 = 1/2, p_fail = 1/2 → P̄_e = 1/4 + 1/4 = 1/2
  //   κ = (2/3 − 1/2) / (1 − 1/2) = (1/6) / (1/2) = 1/3
  const ratings = table(
    ['r1', 'r2', 'r3'],
    [
      ['pass', 'pass', 'pass'],
      ['pass', 'pass', 'fail'],
      ['pass', 'fail', 'fail'],
      ['fail', 'fail', 'fail'],
    ],
  );

  it('matches the hand-computed example', () => {
    close(fleissKappa(ratings), 1 / 3, 'Fleiss κ');
    close(percentAgreement(ratings), 2 / 3, 'percent agreement');
  });

  it('leaves out items with a single label and handles varying rater counts', () => {
    // u1: pass pass (P = 1); u2: pass fail fail (P = 1/3); u3: a single label (left out).
    // P̄ = (1 + 1/3) / 2 = 2/3; pooled: pass 3, fail 2 of 5 → P̄_e = 9/25 + 4/25 = 13/25
    // κ = (2/3 − 13/25) / (1 − 13/25) = (50/75 − 39/75) / (12/25) = (11/75) · (25/12) = 11/36
    const uneven = table(
      ['a', 'b', 'c'],
      [
        ['pass', 'pass', null],
        ['pass', 'fail', 'fail'],
        ['fail', null, null],
      ],
    );
    close(fleissKappa(uneven), 11 / 36, 'Fleiss κ');
    close(percentAgreement(uneven), 2 / 3, 'percent agreement');
    assert.equal(fleissKappa(table(['a'], [['pass']])), null, 'no item with two labels');
  });
});

describe("Krippendorff's α", () => {
  it('nominal on complete data: the Fleiss example with the small-sample correction', () => {
    // Coincidences (each item adds n_c·n_k/(m−1) for c ≠ k and n_c(n_c−1)/(m−1) on the diagonal, m = 3):
    //   u1: pass-pass 3·2/2 = 3
    //   u2: pass-pass 2·1/2 = 1, pass-fail = fail-pass = 2·1/2 = 1
    //   u3: fail-fail 1, pass-fail = fail-pass = 1
    //   u4: fail-fail 3
    //   o_pp = 4, o_ff = 4, o_pf = o_fp = 2; n_pass = n_fail = 6, n = 12
    //   α = 1 − (n − 1) · (o_pf + o_fp) / (n_pass·n_fail + n_fail·n_pass) = 1 − 11 · 4 / 72 = 7/18
    const ratings = table(
      ['r1', 'r2', 'r3'],
      [
        ['pass', 'pass', 'pass'],
        ['pass', 'pass', 'fail'],
        ['pass', 'fail', 'fail'],
        ['fail', 'fail', 'fail'],
      ],
    );
    close(krippendorffAlpha(ratings, 'nominal'), 7 / 18, 'α');
  });

  it('nominal with missing values', () => {
    // u1: A=1, B=1 (m = 2) → o_11 += 2
    // u2: A=1, B=2, C=2 (m = 3) → o_12 = o_21 += 1·2/2 = 1, o_22 += 2·1/2 = 1
    // u3: A=3 alone → not pairable, left out
    // u4: B=2, C=2 (m = 2) → o_22 += 2
    // o_11 = 2, o_22 = 3, o_12 = o_21 = 1; n_1 = 3, n_2 = 4, n = 7
    // α = 1 − 6 · 2 / (3·4 + 4·3) = 1 − 12/24 = 1/2
    const ratings = table(
      ['A', 'B', 'C'],
      [
        [1, 1, null],
        [1, 2, 2],
        [3, null, null],
        [null, 2, 2],
      ],
    );
    close(krippendorffAlpha(ratings, 'nominal'), 1 / 2, 'α');
  });

  it('interval gives credit for near misses that nominal counts as plain disagreement', () => {
    // u1: 1, 2; u2: 3, 3; u3: 2, 3 (two raters, m = 2, each pair weighs 1)
    // o_12 = o_21 = 1, o_23 = o_32 = 1, o_33 = 2; n_1 = 1, n_2 = 2, n_3 = 3, n = 6
    // interval δ² = (c − k)²: observed Σ o·δ² = 1 + 1 + 1 + 1 = 4
    //   expected Σ n_c·n_k·δ² = 2 · (1·2·1 + 1·3·4 + 2·3·1) = 2 · 20 = 40
    //   α = 1 − 5 · 4 / 40 = 1/2
    // nominal δ² = 1: observed 4; expected 2 · (1·2 + 1·3 + 2·3) = 22; α = 1 − 5 · 4 / 22 = 1/11
    const ratings = table(
      ['A', 'B'],
      [
        [1, 2],
        [3, 3],
        [2, 3],
      ],
    );
    close(krippendorffAlpha(ratings, 'interval'), 1 / 2, 'interval α');
    close(krippendorffAlpha(ratings, 'nominal'), 1 / 11, 'nominal α');
  });

  it('is undefined when every value is the same', () => {
    assert.equal(krippendorffAlpha(table(['a', 'b'], [['pass', 'pass']]), 'nominal'), null);
  });
});

describe('agreement report', () => {
  it('bundles the nominal statistics and keeps only α for interval data', () => {
    const nominal = agreementReport(
      table(
        ['a', 'b'],
        [
          ['pass', 'pass'],
          ['fail', 'fail'],
          ['pass', null],
        ],
      ),
      'nominal',
    );
    assert.equal(nominal.items, 2);
    assert.equal(nominal.ratings, 4);
    close(nominal.percentAgreement, 1, 'agreement');
    close(nominal.fleissKappa, 1, 'Fleiss');
    close(nominal.cohenKappa[0]!.kappa, 1, 'Cohen');
    const interval = agreementReport(table(['a', 'b'], [[1, 2]]), 'interval');
    assert.equal(interval.percentAgreement, null);
    assert.deepEqual(interval.cohenKappa, []);
    assert.equal(interval.items, 1);
  });
});
