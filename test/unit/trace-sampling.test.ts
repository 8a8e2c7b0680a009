import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleTraces } from '../../core/trace-sampling.js';

const population = Array.from({ length: 2000 }, (_, i) => ({
  id: `t-${i}`,
  feedback: i % 10 === 0 ? -1 : i % 7 === 0 ? 1 : null,
}));

describe('trace sampling', () => {
  it('keeps every negatively rated trace', () => {
    const picked = sampleTraces(population, { rate: 0.05, seed: 1, maxSample: 10_000 });
    const negatives = population.filter((t) => t.feedback === -1).map((t) => t.id);
    const reasons = new Map(picked.map((p) => [p.traceId, p.reason]));
    for (const id of negatives) assert.equal(reasons.get(id), 'negative_feedback');
  });

  it('nests samples as the rate grows', () => {
    for (const [low, high] of [
      [0.05, 0.1],
      [0.1, 0.5],
      [0.3, 0.31],
    ] as const) {
      const small = new Set(
        sampleTraces(population, { rate: low, seed: 4, maxSample: 10_000 }).map((p) => p.traceId),
      );
      const large = new Set(
        sampleTraces(population, { rate: high, seed: 4, maxSample: 10_000 }).map((p) => p.traceId),
      );
      for (const id of small) assert.ok(large.has(id), `${id} sampled at ${low} but not at ${high}`);
    }
  });

  it('samples close to the configured rate and is deterministic for a seed', () => {
    const a = sampleTraces(population, { rate: 0.2, seed: 9, maxSample: 10_000 });
    const b = sampleTraces(population, { rate: 0.2, seed: 9, maxSample: 10_000 });
    assert.deepEqual(a, b);
    const eligible = population.filter((t) => t.feedback !== -1).length;
    const share = a.filter((p) => p.reason === 'random').length / eligible;
    assert.ok(Math.abs(share - 0.2) < 0.03, `random share ${share}`);
  });

  it('fills the cap with negative feedback first', () => {
    const picked = sampleTraces(population, { rate: 1, seed: 1, maxSample: 50 });
    assert.equal(picked.length, 50);
    assert.ok(picked.every((p) => p.reason === 'negative_feedback'));
  });
});
