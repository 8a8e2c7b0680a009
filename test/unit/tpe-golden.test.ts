/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- the golden fixture is plain JSON; every value is checked by an assertion */
/**
 * TPE components against golden values computed once with Optuna 4.9.0's own code
 * (scripts/tpe-golden.py → test/fixtures/tpe-golden.json).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  buildParzenEstimator,
  defaultGamma,
  defaultWeights,
  parzenLogPdf,
  type ParzenParameters,
} from '../../optimizers/parzen-estimator.js';
import type { SearchSpace } from '../../optimizers/search-space.js';
import { splitTrials, type TpeTrial } from '../../optimizers/tpe.js';
import {
  logGaussMass,
  logNdtr,
  ndtriExp,
  truncnormLogPdf,
  truncnormPpf,
} from '../../optimizers/truncated-normal.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the fixture is plain JSON
const golden: any = JSON.parse(readFileSync(new URL('../fixtures/tpe-golden.json', import.meta.url), 'utf8'));
const num = (v: unknown) => Number(v);

function close(actual: number, expected: number, what: string, rel = 1e-9, abs = 1e-12): void {
  if (Number.isNaN(expected)) return assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
  if (!Number.isFinite(expected)) return assert.equal(actual, expected, what);
  const tol = Math.max(abs, rel * Math.abs(expected));
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: expected ${expected}, got ${actual} (tolerance ${tol})`,
  );
}

test('gamma(n) = min(ceil(0.1 n), 25) as Optuna computes it', () => {
  for (const { n, value } of golden.gamma) assert.equal(defaultGamma(n), value, `gamma(${n})`);
});

test('weights: flat for the newest 25, linear ramp from 1/n for older trials', () => {
  for (const { n, value } of golden.weights) {
    const ours = defaultWeights(n);
    assert.equal(ours.length, value.length, `weights(${n}) length`);
    ours.forEach((w, i) => close(w, num(value[i]), `weights(${n})[${i}]`));
  }
});

test('normal and truncated-normal numerics match Optuna into the tails', () => {
  const t = golden.truncnorm;
  for (const c of t.logNdtr) close(logNdtr(num(c.x)), num(c.value), `logNdtr(${c.x})`);
  for (const c of t.ndtriExp) close(ndtriExp(num(c.y)), num(c.value), `ndtriExp(${c.y})`, 1e-8);
  // Optuna's central case rounds tiny masses to -0 (erf-based), hence the absolute tolerance.
  for (const c of t.logGaussMass)
    close(logGaussMass(num(c.a), num(c.b)), num(c.value), `logGaussMass(${c.a},${c.b})`, 1e-9, 1e-15);
  for (const c of t.ppf) {
    // Within 1e-9 of q = 1, log Φ(x) rounds to within a few ulps of 0 in both
    // implementations; neither is accurate beyond ~1e-4 there (an event of probability 1e-9).
    const rel = 1 - num(c.q) < 1e-9 ? 1e-4 : 1e-8;
    close(truncnormPpf(num(c.q), num(c.a), num(c.b)), num(c.value), `ppf(${c.q},${c.a},${c.b})`, rel, 1e-12);
  }
  for (const c of t.logpdf) {
    close(
      truncnormLogPdf(num(c.x), num(c.a), num(c.b), num(c.loc), num(c.scale)),
      num(c.value),
      `logpdf(${JSON.stringify(c)})`,
    );
  }
});

test('Parzen estimators: kernel weights, bandwidths (magic clip, endpoints, log, step) and log-densities', () => {
  for (const c of golden.parzen) {
    const space = c.searchSpace as SearchSpace;
    const params: ParzenParameters = {
      priorWeight: c.parameters.priorWeight,
      considerMagicClip: c.parameters.considerMagicClip,
      considerEndpoints: c.parameters.considerEndpoints,
      multivariate: c.parameters.multivariate,
    };
    const est = buildParzenEstimator(c.observations, space, params);
    assert.equal(est.weights.length, c.weights.length, `${c.name}: kernel count`);
    est.weights.forEach((w, i) => close(w, num(c.weights[i]), `${c.name}: weight ${i}`));
    est.params.forEach((name, j) => {
      const dim = est.dims[j]!;
      const expected = c.distributions[name];
      if (dim.kind === 'categorical') {
        dim.weights.forEach((row, k) =>
          row.forEach((v, m) =>
            close(v, num(expected.categoricalWeights[k][m]), `${c.name}: ${name} row ${k}[${m}]`),
          ),
        );
        return;
      }
      close(dim.kernelLow, num(expected.kernelLow), `${c.name}: ${name} support low`);
      close(dim.kernelHigh, num(expected.kernelHigh), `${c.name}: ${name} support high`);
      dim.mu.forEach((m, k) => close(m, num(expected.mu[k]), `${c.name}: ${name} mu ${k}`));
      // numpy's argsort is not stable: tied kernels may swap bandwidths, so compare as multisets.
      const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
      const ours = sorted(dim.sigma);
      const theirs = sorted(expected.sigma.map(num));
      ours.forEach((s, k) => close(s, theirs[k]!, `${c.name}: ${name} sigma ${k}`));
    });
    const points = c.logPdf.points.map((p: Record<string, number>) => est.params.map((n) => num(p[n])));
    parzenLogPdf(est, points).forEach((v, i) =>
      close(v, num(c.logPdf.values[i]), `${c.name}: log_pdf at point ${i}`),
    );
  }
});

test('split: best gamma(n) complete trials below (stable on ties), running trials above under the constant liar', () => {
  for (const c of golden.split) {
    const trials: TpeTrial[] = c.trials.map((t: { number: number; state: string; value: number | null }) => ({
      number: t.number,
      internal: [],
      state: t.state === 'RUNNING' ? 'running' : 'complete',
      value: t.value,
    }));
    const considered = trials.filter((t) => t.state === 'complete' || c.constantLiar);
    const { below, above } = splitTrials(considered, c.nBelow, c.direction);
    assert.deepEqual(
      below.map((t) => t.number),
      c.below,
      `${c.name}: below`,
    );
    assert.deepEqual(
      above.map((t) => t.number),
      c.above,
      `${c.name}: above`,
    );
  }
});
