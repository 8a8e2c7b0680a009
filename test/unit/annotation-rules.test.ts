import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roundRobinReviewers } from '../../activities/annotation-queue.js';
import { consensus, type ConsensusInput } from '../../annotation/annotation-consensus.js';
import { checkScoreValues } from '../../evaluation/score-values.js';
import { ScoreConfigInput, type ScoreConfig } from '../../schemas/score-config.js';

const label = (id: number, verdict: 'pass' | 'fail', at: number, hasExpected = false): ConsensusInput => ({
  id: String(id),
  verdict,
  createdAt: new Date(at),
  hasExpected,
});

describe('consensus of an item', () => {
  it('takes the majority verdict and flags a split', () => {
    const c = consensus([label(1, 'pass', 1), label(2, 'pass', 2), label(3, 'fail', 3)])!;
    assert.equal(c.verdict, 'pass');
    assert.equal(c.agreement, 'majority');
    assert.equal(c.disagreement, true);
    assert.equal(c.representative.id, '2', 'the newest label with the consensus verdict speaks for it');
  });

  it('counts a tie as fail and flags it as a disagreement', () => {
    const c = consensus([label(1, 'pass', 5), label(2, 'fail', 1)])!;
    assert.equal(c.verdict, 'fail');
    assert.equal(c.agreement, 'tie');
    assert.equal(c.disagreement, true);
    assert.equal(c.representative.id, '2');
  });

  it('prefers a label with a written expectation, and is unanimous when all agree', () => {
    const c = consensus([label(1, 'fail', 1, true), label(2, 'fail', 2)])!;
    assert.equal(c.agreement, 'unanimous');
    assert.equal(c.disagreement, false);
    assert.equal(c.representative.id, '1');
    assert.equal(consensus([]), null);
  });
});

describe('round-robin assignment', () => {
  it('gives each item distinct reviewers and spreads the load evenly', () => {
    const reviewers = ['ann', 'bob', 'cy'];
    const assigned = Array.from({ length: 6 }, (_, i) => roundRobinReviewers(reviewers, 2, i));
    for (const a of assigned) assert.equal(new Set(a).size, 2);
    const load = new Map<string, number>();
    for (const name of assigned.flat()) load.set(name, (load.get(name) ?? 0) + 1);
    assert.deepEqual([...load.values()], [4, 4, 4]);
  });

  it('caps the reviewers per item at the list length and assigns nobody without a list', () => {
    assert.deepEqual(roundRobinReviewers(['ann'], 3, 0), ['ann']);
    assert.deepEqual(roundRobinReviewers([], 2, 0), []);
  });
});

describe('score configs', () => {
  it('accept the three Langfuse shapes', () => {
    assert.ok(
      ScoreConfigInput.safeParse({ name: 'helpfulness', dataType: 'NUMERIC', minValue: 1, maxValue: 5 })
        .success,
    );
    assert.ok(
      ScoreConfigInput.safeParse({
        name: 'tone',
        dataType: 'CATEGORICAL',
        categories: [
          { label: 'rude', value: 0 },
          { label: 'polite', value: 1 },
        ],
      }).success,
    );
    assert.ok(ScoreConfigInput.safeParse({ name: 'policy_ok', dataType: 'BOOLEAN' }).success);
  });

  it('reject an empty or inverted range, missing or repeated categories and misplaced fields', () => {
    const issues = (body: unknown) => {
      const r = ScoreConfigInput.safeParse(body);
      assert.equal(r.success, false);
      return r.error.issues.map((i) => i.message).join('; ');
    };
    assert.match(
      issues({ name: 'x', dataType: 'NUMERIC', minValue: 5, maxValue: 5 }),
      /must be below maxValue/,
    );
    assert.match(issues({ name: 'x', dataType: 'CATEGORICAL', categories: [] }), /at least one category/);
    assert.match(
      issues({
        name: 'x',
        dataType: 'CATEGORICAL',
        categories: [
          { label: 'a', value: 1 },
          { label: 'a', value: 2 },
        ],
      }),
      /labels must be unique; repeated: a/,
    );
    assert.match(
      issues({ name: 'x', dataType: 'BOOLEAN', categories: [{ label: 'a', value: 1 }] }),
      /only CATEGORICAL/,
    );
    assert.match(issues({ name: 'x', dataType: 'BOOLEAN', maxValue: 1 }), /only NUMERIC/);
    assert.match(issues({ name: 'has space', dataType: 'BOOLEAN' }), /starts with a letter/);
  });

  const configs: ScoreConfig[] = [
    {
      id: 'g:h',
      agent: null,
      name: 'helpfulness',
      dataType: 'NUMERIC',
      minValue: 1,
      maxValue: 5,
      categories: null,
      description: null,
      isArchived: false,
    },
    {
      id: 'g:t',
      agent: null,
      name: 'tone',
      dataType: 'CATEGORICAL',
      minValue: null,
      maxValue: null,
      categories: [
        { label: 'rude', value: 0 },
        { label: 'polite', value: 1 },
      ],
      description: null,
      isArchived: false,
    },
    {
      id: 'g:p',
      agent: null,
      name: 'policy_ok',
      dataType: 'BOOLEAN',
      minValue: null,
      maxValue: null,
      categories: null,
      description: null,
      isArchived: false,
    },
  ];

  it('normalise valid values: numbers, category labels (or their values) and booleans', () => {
    const r = checkScoreValues(configs, { helpfulness: '4', tone: 1, policy_ok: 'false' });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.values, { helpfulness: 4, tone: 'polite', policy_ok: false });
  });

  it('name every bad value: out of range, unknown category, not a boolean, unknown config', () => {
    const r = checkScoreValues(configs, { helpfulness: 7, tone: 'sarcastic', policy_ok: 'maybe', speed: 3 });
    assert.equal(r.errors.length, 4);
    assert.match(r.errors.join('\n'), /"helpfulness" must be within \[1, 5\]; got 7/);
    assert.match(r.errors.join('\n'), /no category "sarcastic"; use one of rude, polite/);
    assert.match(r.errors.join('\n'), /"policy_ok" is BOOLEAN/);
    assert.match(r.errors.join('\n'), /unknown score config "speed"/);
  });
});
