import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalised, dotProduct } from '../../coaching/coaching-recall.js';
import { refineThreshold } from '../../coaching/coaching-threshold.js';
import { localSituationEmbedder } from '../../coaching/situation-embedder.js';
import {
  CALIBRATED_MAX,
  CALIBRATED_MIN,
  MAX_ABOVE_SHARE,
  calibrateThreshold,
} from '../../coaching/threshold-calibration.js';
import { DEFAULT_COACHING_THRESHOLD } from '../../schemas/coaching.js';
import { simulateSituation } from '../simulator/simulated-coaching.js';
import { simulateEmbedding } from '../simulator/simulated-models.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';

/** n values spread evenly over [lo, hi]. */
const spread = (n: number, lo: number, hi: number) =>
  Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / Math.max(1, n - 1));

const embedder = 'test-embedder';

describe('calibrated default threshold: between the source and the agent’s other conversations', () => {
  it('puts the threshold in the middle of the gap below the source', () => {
    const c = calibrateThreshold({ embedder, source: 0.26, others: spread(200, 0.02, 0.15) });
    assert.equal(c.rule, 'calibrated');
    assert.equal(c.threshold, 0.205);
    assert.equal(c.above, 0);
    assert.deepEqual(c.gap, { upper: 0.26, lower: 0.15 });
    assert.equal(
      c.summary,
      'calibrated: source 0.26, 0 of 200 other requests at 0.26 or above, the rest 0.15 or below → 0.205',
    );
  });

  it('keeps other conversations of the same situation above it (a common situation is no outlier)', () => {
    // 15 of 200 others score like the source (7.5 % of the traffic is this situation).
    const others = [...spread(15, 0.24, 0.28), ...spread(185, 0.02, 0.16)];
    const c = calibrateThreshold({ embedder, source: 0.25, others });
    assert.equal(c.rule, 'calibrated');
    assert.ok(c.threshold > 0.16 && c.threshold < 0.24, `threshold ${c.threshold}`);
    // The others scoring 0.24-0.25 are kept above it; those above the source are too.
    assert.equal(others.filter((s) => s >= c.threshold).length, 15);
  });

  it('does not take more than a quarter of the others to be in the situation', () => {
    // Two plateaus: the widest gap would put 60 % of the traffic in the situation.
    const others = [...spread(120, 0.2, 0.22), ...spread(80, 0.0, 0.02)];
    const c = calibrateThreshold({ embedder, source: 0.25, others });
    assert.ok(c.above <= MAX_ABOVE_SHARE * others.length);
    assert.ok(c.threshold > 0.22, `threshold ${c.threshold}`);
  });

  it('falls back to the default, lowered below the source, without enough others', () => {
    const c = calibrateThreshold({ embedder, source: 0.26, others: spread(5, 0, 0.1) });
    assert.equal(c.rule, 'default');
    assert.equal(c.threshold, 0.24);
    assert.match(c.summary, /5 other requests of the agent, fewer than 20/);
    const high = calibrateThreshold({ embedder, source: 0.7, others: [] });
    assert.equal(high.threshold, DEFAULT_COACHING_THRESHOLD);
  });

  it('falls back to the default when the source does not stand out from the others', () => {
    const c = calibrateThreshold({ embedder, source: 0.2, others: spread(200, 0.1, 0.3) });
    assert.equal(c.rule, 'default');
    assert.match(c.summary, /no gap of 0.03 below the source 0.2 among 200 other requests/);
  });

  it('falls back to the default without a source: the others alone cannot say which are in the situation', () => {
    const others = [...spread(10, 0.3, 0.32), ...spread(190, 0.0, 0.12)];
    const c = calibrateThreshold({ embedder, source: null, others });
    assert.equal(c.rule, 'default');
    assert.equal(c.threshold, DEFAULT_COACHING_THRESHOLD);
    assert.equal(c.summary, 'default: no source conversation or example to calibrate on → 0.32');
  });

  it('stays within its clamp, and never above the default', () => {
    // A gap above the default would put the threshold above the requests of the situation
    // itself when the source stands out from them (bench:flywheel synthetic-12).
    const high = calibrateThreshold({ embedder, source: 1, others: spread(50, 0.5, 0.55) });
    assert.equal(high.threshold, DEFAULT_COACHING_THRESHOLD);
    assert.match(high.summary, /→ 0\.32 \(the gap's middle 0\.78, capped at the default\)$/);
    assert.ok(CALIBRATED_MAX >= DEFAULT_COACHING_THRESHOLD);
    assert.equal(
      calibrateThreshold({ embedder, source: 0.1, others: spread(50, -0.2, 0) }).threshold,
      CALIBRATED_MIN,
    );
  });

  it('does not depend on the order of the others', () => {
    const others = [...spread(15, 0.24, 0.28), ...spread(185, 0.02, 0.16)];
    const a = calibrateThreshold({ embedder, source: 0.25, others });
    const b = calibrateThreshold({ embedder, source: 0.25, others: [...others].reverse() });
    assert.deepEqual(a, b);
  });

  it('marks refine the calibrated threshold within bounds relative to it', () => {
    const c = calibrateThreshold({ embedder, source: 0.26, others: spread(200, 0.02, 0.15) });
    const wrong = refineThreshold(c.threshold, [{ similarity: 0.23, verdict: 'wrong' }]);
    assert.equal(wrong.threshold, 0.24);
    assert.deepEqual(wrong.bounds, { lower: 0.105, upper: 0.505 });
    const correct = refineThreshold(c.threshold, [{ similarity: 0.12, verdict: 'correct' }]);
    assert.equal(correct.threshold, 0.12);
  });

  it('recalls an airline situation’s own requests on both embedders, where 0.32 fits only one', async () => {
    const scenario = loadScenario(AIRLINE_SCENARIO);
    const example = scenario.examples.find((e) => e.rule !== null)!;
    const kind = (e: typeof example) => `${e.rule}|${[...e.tags].sort().join()}`;
    const { situation } = simulateSituation(scenario, example.request);
    const local = localSituationEmbedder();
    const fixedRecalls: boolean[] = [];
    for (const embed of [
      (texts: string[]) => local.embed(texts),
      (texts: string[]) => Promise.resolve(texts.map((t) => simulateEmbedding(t))),
    ]) {
      const [s] = await embed([situation]);
      const vectors = await embed(scenario.examples.map((e) => e.request));
      const sim = (i: number) => dotProduct(normalised(vectors[i]!), 0, normalised(s!), s!.length);
      const i = scenario.examples.indexOf(example);
      const others = scenario.examples.flatMap((_, j) => (j === i ? [] : [sim(j)]));
      const c = calibrateThreshold({ embedder: 'e', source: sim(i), others });
      const same = scenario.examples.flatMap((e, j) =>
        j !== i && kind(e) === kind(example) ? [sim(j)] : [],
      );
      const rest = scenario.examples.flatMap((e, j) => (kind(e) !== kind(example) ? [sim(j)] : []));
      assert.equal(c.rule, 'calibrated');
      assert.ok(
        same.length > 0 && same.every((x) => x >= c.threshold),
        `${c.summary}: same ${same.join(', ')}`,
      );
      // Below the default the calibration also separates the other kinds; above it (the
      // local embedder) it is capped at the default, which recalls some of them, as before.
      if (c.threshold < DEFAULT_COACHING_THRESHOLD)
        assert.ok(
          rest.every((x) => x < c.threshold),
          c.summary,
        );
      else assert.match(c.summary, /capped at the default/);
      fixedRecalls.push(same.every((x) => x >= DEFAULT_COACHING_THRESHOLD));
    }
    // The fixed default recalls the situation on the local embedder only.
    assert.deepEqual(fixedRecalls, [true, false]);
  });
});
