import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  groupCandidates,
  RANDOM,
  selectSampleFromGroups,
  selectSample,
  type CandidateGroup,
  type SampleCandidate,
} from '../../traces/sample-selection.js';
import { unitInterval } from '../../optimizers/stable-hash.js';
import { SamplingPolicy } from '../../schemas/sampling-policy.js';

const policy = (overrides: Partial<SamplingPolicy> = {}) => ({ ...SamplingPolicy.parse({}), ...overrides });

/** 4,000 traces of 25 users; every 7th asks what another did, so dedup skips many. */
function population(rate: number): SampleCandidate[] {
  return Array.from({ length: 4000 }, (_, i) => {
    const u = unitInterval(`p-${i}`, 5);
    const strata = [...(i % 9 === 0 ? ['negative_feedback'] : []), ...(i % 13 === 0 ? ['error'] : [])];
    return { id: `p-${i}`, userId: `user-${i % 25}`, u, strata, random: u < rate };
  });
}
const texts = (id: string) => {
  const i = Number(id.slice(2));
  return i % 7 === 0 ? 'where is my refund' : `question ${i} about booking ${i * 31}`;
};

/**
 * Selection over groups that start with `first` candidates each (and sizes capped as the
 * reader caps the random one), extended by doubling whenever the walk asks for more.
 */
function selectFromPrefixes(all: readonly SampleCandidate[], p: SamplingPolicy, first: number) {
  const full = groupCandidates(all, p);
  const limits = new Map([...full.keys()].map((g) => [g, first]));
  const prefix = (group: string): CandidateGroup => {
    const { candidates, size } = full.get(group)!;
    const limit = limits.get(group)!;
    return {
      candidates: candidates.slice(0, limit),
      size: group === RANDOM ? Math.min(size, p.maxSample + 1) : size,
      complete: limit >= candidates.length,
    };
  };
  const groups = new Map([...full.keys()].map((g) => [g, prefix(g)]));
  let asked = 0;
  for (;;) {
    const result = selectSampleFromGroups(groups, p, texts);
    if (result.done) return { selection: result.selection, asked };
    assert.equal(result.needText.length, 0, 'every text is at hand');
    for (const group of result.needMore) {
      asked += 1;
      limits.set(group, 2 * limits.get(group)!);
      groups.set(group, prefix(group));
    }
  }
}

describe('sample selection over candidate prefixes', () => {
  for (const [name, p] of [
    ['a binding cap with per-user caps and dedup', policy({ rate: 0.3, maxSample: 300, perUserCap: 8 })],
    ['caps that exhaust the strata', policy({ rate: 0.05, maxSample: 2000, perUserCap: 20 })],
    ['equal allocation', policy({ rate: 0.2, maxSample: 120, allocation: 'equal', perUserCap: 3 })],
    ['no dedup', policy({ rate: 0.1, maxSample: 150, dedup: { exact: false, near: false } })],
  ] as const) {
    it(`picks what a full read picks: ${name}`, () => {
      const all = population(p.rate);
      const expected = selectSample(all, p, texts);
      assert.ok(expected.done);
      const { selection, asked } = selectFromPrefixes(all, p, 4);
      assert.deepEqual(selection.picked, expected.selection.picked);
      assert.deepEqual(selection.skipped, expected.selection.skipped);
      assert.ok(asked > 0, 'the walk ran past a prefix and asked for more');
    });
  }

  it('asks for more of a group only when its prefix is incomplete', () => {
    const p = policy({ rate: 0.1, maxSample: 50 });
    const groups = groupCandidates(population(p.rate), p);
    const negative = groups.get('negative_feedback')!;
    groups.set('negative_feedback', {
      ...negative,
      candidates: negative.candidates.slice(0, 3),
      complete: false,
    });
    const result = selectSampleFromGroups(groups, p, texts);
    assert.equal(result.done, false);
    if (!result.done) assert.deepEqual(result.needMore, ['negative_feedback']);
  });
});
