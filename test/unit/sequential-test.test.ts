/**
 * The rollout analysis's sequential test against values worked out independently
 * (scripts/sequential-test-reference.py → test/fixtures/sequential-test-reference.json: the
 * mSPRT statistic and the confidence sequence by numerical integration and root finding with
 * scipy, error rates by a numpy simulation), and its guarantees by a seeded simulation of
 * the product's own decision code under repeated looks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { nextFloat, seedPrng, type PrngState } from '../../optimizers/prng.js';
import { measureMetric, type MetricSettings } from '../../release/rollout-analysis.js';
import {
  mixtureHalfWidth,
  mixtureLikelihoodRatio,
  normalQuantile,
  powerCheck,
  rateContrastSequence,
  standardErrorForPower,
} from '../../release/sequential-test.js';
import type { AnalysisMetric } from '../../schemas/rollout-config.js';

const Simulation = z.object({
  name: z.string(),
  rule: z.enum(['fail', 'promote', 'naive']),
  pCandidate: z.number(),
  pBaseline: z.number(),
  candidatePerLook: z.number().int(),
  baselinePerLook: z.number().int(),
  looks: z.number().int(),
  runs: z.number().int(),
  alpha: z.number(),
  power: z.number(),
  minimumDetectableEffect: z.number(),
  threshold: z.number(),
  minSamples: z.number().int(),
  rate: z.number(),
});
const Reference = z.object({
  likelihoodRatio: z.array(
    z.object({
      estimate: z.number(),
      standardError: z.number(),
      nullValue: z.number(),
      mixingScale: z.number(),
      value: z.number(),
    }),
  ),
  halfWidth: z.array(
    z.object({ standardError: z.number(), alpha: z.number(), mixingScale: z.number(), value: z.number() }),
  ),
  powerTarget: z.array(
    z.object({
      alpha: z.number(),
      power: z.number(),
      minimumDetectableEffect: z.number(),
      value: z.number(),
    }),
  ),
  normalQuantile: z.array(z.object({ p: z.number(), value: z.number() })),
  simulations: z.array(Simulation),
});
const reference = Reference.parse(
  JSON.parse(readFileSync(new URL('../fixtures/sequential-test-reference.json', import.meta.url), 'utf8')),
);

function close(actual: number, expected: number, what: string, rel = 1e-9): void {
  const tol = rel * Math.abs(expected) + 1e-15;
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected}, got ${actual}`);
}

describe('the normal-mixture sequential test, against scipy', () => {
  it('computes the mSPRT statistic as the mixture integral does', () => {
    for (const c of reference.likelihoodRatio)
      close(
        mixtureLikelihoodRatio(c.estimate, c.standardError, c.nullValue, c.mixingScale),
        c.value,
        `Λ(${JSON.stringify(c)})`,
      );
  });
  it("puts the confidence sequence's edge where the integral's statistic reaches 1/alpha", () => {
    for (const c of reference.halfWidth)
      close(
        mixtureHalfWidth(c.standardError, c.alpha, c.mixingScale),
        c.value,
        `w(${JSON.stringify(c)})`,
        1e-8,
      );
  });
  it('sizes the minimum sample as a fixed-sample test at alpha with the configured power at the effect', () => {
    for (const c of reference.powerTarget)
      close(standardErrorForPower(c), c.value, `s*(${JSON.stringify(c)})`, 1e-8);
  });
  it('uses the standard normal quantile', () => {
    for (const c of reference.normalQuantile) close(normalQuantile(c.p), c.value, `Φ⁻¹(${c.p})`, 1e-12);
  });
  it('keeps a rate of 0 of n from claiming certainty', () => {
    const cs = rateContrastSequence({ successes: 0, trials: 30 }, null, 0, {
      alpha: 0.05,
      minimumDetectableEffect: 0.1,
    });
    assert.equal(cs.estimate, 0);
    assert.ok(cs.high > 0.05 && cs.high < 0.15, `upper edge ${cs.high}`);
  });
  it('asks for more traffic at a smaller effect, a lopsided split or a rate near one half', () => {
    const settings = { alpha: 0.05, power: 0.8, minimumDetectableEffect: 0.1 };
    const need = (c: number, b: number, p: number, mde = 0.1) =>
      powerCheck(
        { successes: Math.round(p * c), trials: c },
        { successes: Math.round(p * b), trials: b },
        1,
        { ...settings, minimumDetectableEffect: mde },
      ).candidateTracesNeeded;
    assert.ok(need(100, 100, 0.5, 0.05) > 3 * need(100, 100, 0.5));
    assert.ok(need(100, 100, 0.5) > need(100, 900, 0.5), 'a large baseline carries part of the variance');
    assert.ok(need(100, 100, 0.5) > need(100, 100, 0.1));
    const check = powerCheck({ successes: 380, trials: 760 }, { successes: 380, trials: 760 }, 1, settings);
    assert.equal(check.ready, check.candidateTracesNeeded <= 760);
  });
});

/** Binomial(n, p) by n Bernoulli draws: exact, and cheap at these sizes. */
function binomial(rng: PrngState, n: number, p: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) if (nextFloat(rng) < p) x++;
  return x;
}

/**
 * Runs the scenario `runs` times with the product's measureMetric looking after every batch;
 * returns the share of runs in which the rule's event ever happened.
 */
function simulate(sim: z.infer<typeof Simulation>, runs: number, seed: number): number {
  const rng = seedPrng(seed);
  const settings: MetricSettings = {
    minSamples: sim.minSamples,
    alpha: sim.alpha,
    power: sim.power,
    minimumDetectableEffect: sim.minimumDetectableEffect,
  };
  const failure = `result < baseline${sim.threshold === 0 ? '' : ` - ${-sim.threshold}`}`;
  const metric: AnalysisMetric = { name: 'success_rate', failureCondition: failure };
  const critical = normalQuantile(1 - sim.alpha / 2);
  let hits = 0;
  for (let run = 0; run < runs; run++) {
    let xc = 0;
    let xb = 0;
    for (let look = 1; look <= sim.looks; look++) {
      xc += binomial(rng, sim.candidatePerLook, sim.pCandidate);
      xb += binomial(rng, sim.baselinePerLook, sim.pBaseline);
      const nc = look * sim.candidatePerLook;
      const nb = look * sim.baselinePerLook;
      let hit: boolean;
      if (sim.rule === 'naive') {
        const cs = rateContrastSequence(
          { successes: xc, trials: nc },
          { successes: xb, trials: nb },
          1,
          settings,
        );
        hit =
          nc >= sim.minSamples &&
          nb >= sim.minSamples &&
          Math.abs(cs.estimate - sim.threshold) / cs.standardError > critical;
      } else {
        const phase = measureMetric(
          metric,
          { samples: nc, judged: 0, values: { success_rate: xc / nc } },
          { samples: nb, judged: 0, values: { success_rate: xb / nb } },
          settings,
        ).phase;
        hit = phase === (sim.rule === 'fail' ? 'failed' : 'successful');
      }
      if (hit) {
        hits++;
        break;
      }
    }
  }
  return hits / runs;
}

describe('the decision under repeated looks (seeded simulation of the product code)', () => {
  const RUNS = 800;
  const sim = (name: string) => {
    const s = reference.simulations.find((x) => x.name.startsWith(name));
    assert.ok(s, `fixture has a simulation "${name}"`);
    return s;
  };
  /** The TypeScript rate agrees with numpy's within sampling error (4 standard errors of the difference). */
  const agrees = (ts: number, s: z.infer<typeof Simulation>) => {
    const p = Math.max(s.rate, 1 / RUNS);
    const se = Math.sqrt(p * (1 - p) * (1 / RUNS + 1 / s.runs));
    assert.ok(Math.abs(ts - s.rate) <= 4 * se + 1e-12, `${s.name}: TypeScript ${ts}, numpy ${s.rate}`);
  };

  it('rolls back a candidate that is exactly at the tolerance at most alpha of the time, over 50 looks', () => {
    const s = sim('fail at the boundary');
    const rate = simulate(s, RUNS, 11);
    assert.ok(rate <= s.alpha, `false rollbacks ${rate}`);
    agrees(rate, s);
  });
  it('with no tolerance, rolls back an equal candidate at most alpha of the time, over 100 looks', () => {
    const s = sim('fail with no tolerance');
    const rate = simulate(s, RUNS, 12);
    assert.ok(rate <= s.alpha, `false rollbacks ${rate}`);
    agrees(rate, s);
  });
  it('promotes a candidate exactly at the tolerance at most alpha of the time, over 60 looks', () => {
    const s = sim('promote at the boundary');
    const rate = simulate(s, RUNS, 13);
    assert.ok(rate <= s.alpha, `false promotions ${rate}`);
    agrees(rate, s);
  });
  it('where a fixed-sample test repeated at every look would be wrong far more often than alpha', () => {
    const s = sim('naive z-test');
    const rate = simulate(s, RUNS, 14);
    assert.ok(rate > 3 * s.alpha, `naive error rate ${rate}`);
    agrees(rate, s);
  });
  it('catches a real regression', () => {
    const s = sim('detect a 25-point regression');
    const rate = simulate(s, RUNS, 15);
    assert.ok(rate >= 0.9, `detected ${rate}`);
    agrees(rate, s);
  });
});
