/**
 * The drift detector: its tests against scipy (values from scipy.stats 1.17), its multiplicity
 * rule, and its behaviour on seeded synthetic streams: stationary streams stay quiet, a planted
 * change raises exactly one alert within one window, with its evidence.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextFloat, seedPrng, type PrngState } from '../../optimizers/prng.js';
import { DriftConfig, HOUR_MS, perTestAlpha } from '../../evaluation/drift/drift-config.js';
import {
  evaluateDrift,
  initialDriftState,
  taroneCount,
  type DriftObservation,
} from '../../evaluation/drift/drift-detector.js';
import { DriftMonitor } from '../../evaluation/drift/drift-monitor.js';
import {
  chiSquareSurvival,
  histogramShiftTest,
  hypergeometricUpperTail,
  logGamma,
  median,
  proportionIncreaseTest,
  rankIncreaseTest,
} from '../../evaluation/drift/drift-statistics.js';
import { choosePrototypes, nearestPrototype } from '../../evaluation/drift/input-prototypes.js';

const close = (actual: number, expected: number, relative = 1e-6) =>
  assert.ok(
    Math.abs(actual - expected) <= relative * Math.abs(expected),
    `${actual} is not within ${relative} of ${expected}`,
  );

describe('drift statistics', () => {
  it('computes log Γ, the hypergeometric tail and the chi-square tail as scipy does', () => {
    close(logGamma(0.3), 1.0957979948180752, 1e-12);
    close(logGamma(123.4), 469.3360974421906, 1e-12);
    close(hypergeometricUpperTail(3, 8000, 3, 1000), 0.001947999970363887);
    close(chiSquareSurvival(30.5, 7), 7.685993449410958e-5);
    close(chiSquareSurvival(3.2, 1), 0.07363827012030258);
    close(chiSquareSurvival(100, 15), 1.3047043436251422e-14, 1e-5);
  });

  it("gives Fisher's exact one-sided p-value for a rate that rose", () => {
    const test = proportionIncreaseTest({ count: 2, trials: 100 }, { count: 10, trials: 33 });
    close(test.pValue, 1.2458051899747261e-5);
    assert.equal(test.referenceRate, 0.02);
  });

  it('does not call three errors in a row of eight thousand traces a drift', () => {
    // z ≈ 4.6 by the normal approximation; exactly, p ≈ 0.002.
    const test = proportionIncreaseTest({ count: 0, trials: 7000 }, { count: 3, trials: 1000 });
    assert.ok(test.pValue > 1e-3);
  });

  it('gives the Mann-Whitney one-sided p-value with ties and continuity correction', () => {
    const test = rankIncreaseTest([1, 2, 3, 3, 5, 8, 13, 21], [4, 6, 9, 10, 13, 22, 30]);
    close(test.pValue, 0.041015546959469344, 1e-9);
    assert.equal(median([4, 6, 9, 10, 13, 22, 30]), 10);
    assert.equal(median([1, 2, 3, 3]), 2.5);
  });

  it('gives the chi-square homogeneity test of two histograms', () => {
    const test = histogramShiftTest([30, 20, 10, 40], [10, 25, 30, 35]);
    close(test.statistic, 20.88888888888889, 1e-12);
    assert.equal(test.degreesOfFreedom, 3);
    close(test.pValue, 0.00011102030890437822);
    assert.equal(test.risingBin, 2);
  });

  it('pools sparse bins and tests nothing when one bin is left', () => {
    assert.equal(histogramShiftTest([2, 1, 0], [1, 0, 2]).pValue, 1);
    assert.equal(histogramShiftTest([50, 0, 1], [40, 1, 0]).degreesOfFreedom, 1);
  });
});

describe('multiplicity', () => {
  it("counts only the tests that could reject (Tarone's refinement of Bonferroni)", () => {
    assert.equal(taroneCount([0, 0, 0, 0.5, 0.5], 0.01), 3);
    assert.equal(taroneCount([0.5, 0.5], 0.01), 1);
    assert.equal(taroneCount([], 0.01), 1);
  });

  it('splits the false-alarm budget over the checks of 30 days and the tests of a check', () => {
    const config = DriftConfig.parse({ falseAlarmsPer30Days: 0.72, checkEveryMinutes: 60 });
    close(perTestAlpha(config, 10), 0.72 / 720 / 10, 1e-12);
  });
});

describe('input prototypes', () => {
  it('spreads prototypes by farthest-point traversal from the first vector, deterministically', () => {
    const vectors = [
      [1, 0, 0],
      [0.99, 0.141, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const prototypes = choosePrototypes(vectors, 3);
    assert.deepEqual(prototypes, [vectors[0], vectors[2], vectors[3]]);
    assert.equal(nearestPrototype(prototypes, [0.9, 0.1, 0]), 0);
    assert.deepEqual(
      choosePrototypes(
        [
          [1, 0],
          [1, 0],
        ],
        4,
      ),
      [[1, 0]],
    );
  });
});

// --- Synthetic streams -------------------------------------------------------------------

const SLICES = ['booking', 'cancellation', 'baggage', 'status'];
const UNIT = (i: number) => {
  const v = new Array<number>(8).fill(0);
  v[i] = 1;
  return v;
};

interface StreamOptions {
  seed: number;
  days: number;
  perHour: number;
  /** From this hour on, the change applies. */
  onsetHour?: number;
  change?: 'errors-in-booking' | 'new-input' | 'slower';
}

function stream(o: StreamOptions): DriftObservation[] {
  const prng: PrngState = seedPrng(o.seed);
  const out: DriftObservation[] = [];
  for (let h = 0; h < o.days * 24; h++) {
    for (let j = 0; j < o.perHour; j++) {
      const drifted = o.onsetHour !== undefined && h >= o.onsetHour;
      const slice = SLICES[Math.floor(nextFloat(prng) * SLICES.length)]!;
      const newInput = drifted && o.change === 'new-input' && nextFloat(prng) < 0.15;
      const errorRate = drifted && o.change === 'errors-in-booking' && slice === 'booking' ? 0.2 : 0.01;
      const latency = 800 * Math.exp(0.4 * gaussian(prng)) * (drifted && o.change === 'slower' ? 1.3 : 1);
      out.push({
        traceId: `t-${h}-${j}`,
        timeMs: h * HOUR_MS + Math.floor((j * HOUR_MS) / o.perHour),
        slices: [slice],
        judgePass: nextFloat(prng) < 0.5 ? nextFloat(prng) > 0.1 : undefined,
        negativeFeedback: nextFloat(prng) < 0.05,
        escalated: nextFloat(prng) < 0.03,
        error: nextFloat(prng) < errorRate,
        latencyMs: latency,
        costUsd: Math.round(nextFloat(prng) * 40) / 10_000,
        embedding: newInput ? UNIT(7) : UNIT(SLICES.indexOf(slice) * 2 + (nextFloat(prng) < 0.5 ? 0 : 1)),
      });
    }
  }
  return out;
}

function gaussian(prng: PrngState): number {
  const u = Math.max(nextFloat(prng), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * nextFloat(prng));
}

function run(observations: DriftObservation[], days: number, config = DriftConfig.parse({})) {
  const monitor = new DriftMonitor(config, 0);
  let next = 0;
  for (let h = 1; h <= days * 24; h++) {
    const batch: DriftObservation[] = [];
    while (next < observations.length && observations[next]!.timeMs < h * HOUR_MS)
      batch.push(observations[next++]!);
    monitor.observe(batch);
    monitor.check(h * HOUR_MS);
  }
  return monitor.alerts;
}

describe('drift detector on synthetic streams', () => {
  it('stays quiet on stationary streams (8 seeds × 15 days, every hour, every metric and slice)', () => {
    // A budget of 0.05 false alarms per 30 days bounds the expected count over these 120 days by 0.2.
    const config = DriftConfig.parse({ falseAlarmsPer30Days: 0.05 });
    for (let seed = 1; seed <= 8; seed++) {
      const alerts = run(stream({ seed, days: 15, perHour: 12 }), 15, config);
      assert.equal(alerts.length, 0, `seed ${seed}: ${JSON.stringify(alerts[0]?.findings[0])}`);
    }
  });

  it('raises exactly one alert, within one window, for errors appearing in one slice', () => {
    const onsetHour = 6 * 24 + 5;
    const alerts = run(
      stream({ seed: 3, days: 16, perHour: 12, onsetHour, change: 'errors-in-booking' }),
      16,
    );
    assert.equal(alerts.length, 1);
    const alert = alerts[0]!;
    assert.ok(alert.atMs > onsetHour * HOUR_MS && alert.atMs <= (onsetHour + 24) * HOUR_MS);
    const first = alert.findings[0]!;
    assert.equal(first.slice, 'booking');
    assert.equal(first.metric, 'error');
    assert.ok(first.before < 0.05 && first.after > first.before);
    assert.ok(first.pValue <= first.alpha);
    assert.equal(first.sampleTraceIds.length, 5);
    assert.ok(alert.driftedTraceIds.length >= first.statistic);
  });

  it('quotes as samples current-window traces that show the finding', () => {
    const observations = stream({
      seed: 4,
      days: 10,
      perHour: 12,
      onsetHour: 5 * 24,
      change: 'errors-in-booking',
    });
    const alerts = run(observations, 10);
    const byId = new Map(observations.map((o) => [o.traceId, o]));
    for (const id of alerts[0]!.findings[0]!.sampleTraceIds) {
      const o = byId.get(id)!;
      assert.ok(o.error && o.slices.includes('booking') && o.timeMs >= alerts[0]!.currentStartMs);
    }
  });

  it('flags a new kind of input by the embedding histogram', () => {
    const config = DriftConfig.parse({ metrics: ['input'] });
    const alerts = run(
      stream({ seed: 5, days: 12, perHour: 12, onsetHour: 7 * 24, change: 'new-input' }),
      12,
      config,
    );
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.findings[0]!.metric, 'input');
    assert.ok(alerts[0]!.findings[0]!.after > alerts[0]!.findings[0]!.before);
  });

  it('flags slower responses by the rank test', () => {
    const alerts = run(stream({ seed: 6, days: 12, perHour: 12, onsetHour: 7 * 24, change: 'slower' }), 12);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.findings[0]!.metric, 'latency');
    assert.ok(alerts[0]!.findings[0]!.after > alerts[0]!.findings[0]!.before);
  });

  it('tests nothing until the reference holds minReferenceHours, from the start and after an alert', () => {
    const config = DriftConfig.parse({});
    const observations = stream({ seed: 7, days: 4, perHour: 12 });
    const early = evaluateDrift({
      config,
      state: initialDriftState(0),
      observations,
      nowMs: (24 + 47) * HOUR_MS,
    });
    assert.equal(early.tested, false);
    const ready = evaluateDrift({
      config,
      state: initialDriftState(0),
      observations,
      nowMs: (24 + 48) * HOUR_MS,
    });
    assert.equal(ready.tested, true);
    assert.ok(ready.testsCounted > 1);
  });

  it('is deterministic: the same stream gives the same alerts', () => {
    const make = () =>
      run(stream({ seed: 9, days: 10, perHour: 12, onsetHour: 6 * 24, change: 'errors-in-booking' }), 10);
    assert.deepEqual(make(), make());
  });

  it('refuses observations out of time order', () => {
    const monitor = new DriftMonitor(DriftConfig.parse({}), 0);
    const [a, b] = stream({ seed: 1, days: 1, perHour: 2 });
    monitor.observe([b!]);
    assert.throws(() => monitor.observe([a!]), /time order/);
  });
});
