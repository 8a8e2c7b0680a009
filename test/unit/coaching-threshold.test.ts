import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refineThreshold, thresholdBounds, type ThresholdMark } from '../../coaching/coaching-threshold.js';

const wrong = (similarity: number): ThresholdMark => ({ similarity, verdict: 'wrong' });
const correct = (similarity: number): ThresholdMark => ({ similarity, verdict: 'correct' });
const recalls = (threshold: number, similarity: number) => similarity >= threshold;

describe("a coaching's recall threshold refined from reviewers' marks", () => {
  it("is the author's threshold while nobody has marked an application", () => {
    const r = refineThreshold(0.32, []);
    assert.equal(r.threshold, 0.32);
    assert.deepEqual(r.misjudged, { wrongStillRecalled: 0, correctNotRecalled: 0 });
  });

  it('rises just above a wrongly applied recall, so that conversation is no longer recalled', () => {
    const r = refineThreshold(0.32, [wrong(0.41237)]);
    assert.equal(r.threshold, 0.4224);
    assert.ok(!recalls(r.threshold, 0.41237));
    assert.equal(r.marks.wrong, 1);
  });

  it('does not move for a wrong mark below the threshold, nor for correct marks above it', () => {
    assert.equal(refineThreshold(0.32, [wrong(0.25)]).threshold, 0.32);
    assert.equal(refineThreshold(0.32, [correct(0.36), correct(0.5)]).threshold, 0.32);
  });

  it('stays at or below a correctly applied recall above the wrong one', () => {
    const r = refineThreshold(0.32, [wrong(0.38), correct(0.45), correct(0.52)]);
    assert.equal(r.threshold, 0.39);
    assert.ok(recalls(r.threshold, 0.45) && recalls(r.threshold, 0.52) && !recalls(r.threshold, 0.38));
  });

  it('comes back down when correct marks outweigh a wrong one above them', () => {
    assert.equal(refineThreshold(0.32, [wrong(0.4)]).threshold, 0.41);
    // Two correct recalls below the wrong one: keeping them misjudges one mark, excluding the
    // wrong one misjudges two.
    const r = refineThreshold(0.32, [wrong(0.4), correct(0.35), correct(0.37)]);
    assert.equal(r.threshold, 0.32);
    assert.deepEqual(r.misjudged, { wrongStillRecalled: 1, correctNotRecalled: 0 });
    // One each way at the same similarity: the threshold nearest the author's wins.
    assert.equal(refineThreshold(0.32, [wrong(0.4), correct(0.4)]).threshold, 0.32);
  });

  it('lowers toward a correctly applied recall below it (recalled under a lower threshold), within bounds', () => {
    assert.equal(refineThreshold(0.32, [correct(0.27)]).threshold, 0.27);
    const far = refineThreshold(0.32, [correct(0.1)]);
    assert.equal(far.threshold, 0.32, 'a correct mark beyond the bound cannot be reached: no move');
    assert.deepEqual(far.misjudged, { wrongStillRecalled: 0, correctNotRecalled: 1 });
  });

  it('never leaves its bounds, and says how many marks it still misjudges there', () => {
    assert.deepEqual(thresholdBounds(0.32), { lower: 0.22, upper: 0.62 });
    assert.deepEqual(thresholdBounds(0.9), { lower: 0.8, upper: 0.95 });
    assert.deepEqual(thresholdBounds(0.02), { lower: 0.02, upper: 0.32 });
    const r = refineThreshold(0.32, [wrong(0.9), wrong(0.5)]);
    assert.equal(r.threshold, 0.51, 'above the wrong recall it can exclude');
    assert.deepEqual(r.misjudged, { wrongStillRecalled: 1, correctNotRecalled: 0 });
    // A recall too similar to exclude within the bounds: the situation is worded too broadly.
    const beyond = refineThreshold(0.32, [wrong(0.9)]);
    assert.equal(beyond.threshold, 0.32);
    assert.deepEqual(beyond.misjudged, { wrongStillRecalled: 1, correctNotRecalled: 0 });
  });

  it('depends on the marks, not on the order they came in', () => {
    const marks = [wrong(0.44), correct(0.47), wrong(0.36), correct(0.52), wrong(0.5), correct(0.39)];
    const expected = refineThreshold(0.32, marks).threshold;
    let seed = 7;
    for (let round = 0; round < 20; round++) {
      const shuffled = [...marks];
      for (let i = shuffled.length - 1; i > 0; i--) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        const j = seed % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      assert.equal(refineThreshold(0.32, shuffled).threshold, expected);
    }
    // And it misjudges no more marks than any other threshold in the bounds would.
    const errors = (t: number) =>
      marks.filter((m) => (m.verdict === 'wrong' ? m.similarity >= t : m.similarity < t)).length;
    for (let t = 0.22; t <= 0.62; t += 0.005) assert.ok(errors(expected) <= errors(t), `${expected} vs ${t}`);
  });
});
