import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { staleExamples } from '../../datasets/stale-examples.js';
import { DatasetPolicy } from '../../schemas/dataset-policy.js';

const DAY = 86_400_000;
const now = new Date('2026-12-06T09:00:00Z');
const ago = (days: number) => new Date(now.getTime() - days * DAY);

describe('the dataset policy stalenessDays', () => {
  const examples = [
    { key: 'old-cycle', source: 'cycle', createdAt: ago(91) },
    { key: 'young-cycle', source: 'cycle', createdAt: ago(89) },
    { key: 'exactly-90', source: 'cycle', createdAt: ago(90) },
    { key: 'old-import', source: 'import', createdAt: ago(400) },
    { key: 'unknown-age', source: 'cycle', createdAt: null },
  ];

  it('retires cycle examples first added more than stalenessDays ago, each with its reason', () => {
    const stale = staleExamples(examples, 90, now);
    assert.deepEqual(
      stale.map((s) => s.key),
      ['old-cycle'],
    );
    assert.match(
      stale[0]!.reason,
      /^stale: first added 2026-09-06T09:00:00\.000Z, more than 90 day\(s\) ago \(dataset policy stalenessDays\)$/,
    );
  });

  it('keeps imported examples, which someone curated on purpose, whatever their age', () => {
    assert.ok(!staleExamples(examples, 1, now).some((s) => s.key === 'old-import'));
    assert.deepEqual(
      staleExamples(examples, 1, now).map((s) => s.key),
      ['old-cycle', 'young-cycle', 'exactly-90'],
    );
  });

  it('retires nothing when the policy sets no stalenessDays (the default)', () => {
    const policy = DatasetPolicy.parse({});
    assert.equal(policy.stalenessDays, undefined);
    assert.deepEqual(staleExamples(examples, policy.stalenessDays, now), []);
  });
});
