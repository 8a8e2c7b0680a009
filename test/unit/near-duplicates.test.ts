import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_NEAR_DUPLICATE_THRESHOLD,
  defaultBands,
  estimateJaccard,
  exactKey,
  minHashSignature,
  NearDuplicateIndex,
  normalizeForDedup,
} from '../../traces/near-duplicates.js';

const paraphrases: [string, string][] = [
  ['I want to cancel my reservation ZFA04Y', 'Hi, please cancel my reservation ZFA04Y, I want to cancel it'],
  ['Can you change my flight to May 20?', 'Could you please change my flight to May 20? Thanks!'],
  ['Please cancel reservation ZFA04Y', 'Cancel reservation ZFA04Y please'],
  ['I want a refund for my cancelled flight HAT136', 'I would like a refund for my canceled flight HAT136'],
  [
    'Book a one-way flight from New York to Seattle on May 20',
    'Hi! I would like to book a one-way flight from New York to Seattle on May 20th, please.',
  ],
  [
    'My user id is mia_li_3668 and I want to cancel reservation ZFA04Y',
    'Hello, I want to cancel reservation ZFA04Y. My user id is mia_li_3668.',
  ],
];

const distinct: [string, string][] = [
  ['cancel reservation ZFA04Y', 'change my flight to May 20'],
  ['I want to cancel my reservation ZFA04Y', 'I want to cancel my reservation 4WQ150'],
  ['Book a flight from New York to Seattle on May 20', 'Book a flight from Boston to Miami on June 3'],
  ['Upgrade my reservation ZFA04Y to business class', 'Downgrade my reservation ZFA04Y to economy class'],
  [
    'Hi, I need to change my return flight from Texas to Newark.',
    'Hi, I need to change my outbound flight from Newark to Texas.',
  ],
  ['How much does an extra bag cost?', 'How much does a business class upgrade cost?'],
];

describe('near duplicates', () => {
  it('normalizes case, width, punctuation and spacing', () => {
    assert.equal(normalizeForDedup('  Hi!!  I’d   like ＺＦＡ０４Ｙ,\tplease… '), 'hi id like zfa04y please');
    assert.equal(normalizeForDedup('ﬁle — café'), 'file café');
    const once = normalizeForDedup('Hello, World — $1,234.56!');
    assert.equal(normalizeForDedup(once), once);
  });

  it('keys exact duplicates after normalization only', () => {
    assert.equal(exactKey('Cancel reservation ZFA04Y!'), exactKey('  cancel   RESERVATION zfa04y'));
    assert.notEqual(exactKey('cancel reservation ZFA04Y'), exactKey('cancel reservation ZFA04Z'));
  });

  it('is deterministic for a seed and varies across seeds', () => {
    const text = 'I want to change my flight to May 20';
    assert.deepEqual(minHashSignature(text, 7), minHashSignature(text, 7));
    assert.notDeepEqual(minHashSignature(text, 7), minHashSignature(text, 8));
    const run = (seed: number) => {
      const index = new NearDuplicateIndex({ threshold: DEFAULT_NEAR_DUPLICATE_THRESHOLD, seed });
      return [...paraphrases, ...distinct].flat().map((t, i) => index.add(`t${i}`, t));
    };
    assert.deepEqual(run(3), run(3));
  });

  it('estimates Jaccard: 1 for the same shingles, near 0 for unrelated texts', () => {
    const a = minHashSignature('cancel reservation ZFA04Y');
    assert.equal(estimateJaccard(a, minHashSignature('Please, cancel reservation zfa04y!')), 1);
    assert.ok(estimateJaccard(a, minHashSignature('what is the baggage allowance for economy')) < 0.1);
  });

  for (const seed of [0, 1, 2]) {
    it(`finds paraphrases of the same request (seed ${seed})`, () => {
      for (const [first, second] of paraphrases) {
        const index = new NearDuplicateIndex({ threshold: DEFAULT_NEAR_DUPLICATE_THRESHOLD, seed });
        assert.equal(index.add('first', first), null);
        assert.equal(index.add('second', second), 'first', `${first} / ${second}`);
      }
    });

    it(`keeps different requests of the same kind apart (seed ${seed})`, () => {
      for (const [first, second] of distinct) {
        const index = new NearDuplicateIndex({ threshold: DEFAULT_NEAR_DUPLICATE_THRESHOLD, seed });
        assert.equal(index.add('first', first), null);
        assert.equal(index.add('second', second), null, `${first} / ${second}`);
      }
    });
  }

  it('catches exact duplicates first and only indexes kept items', () => {
    const index = new NearDuplicateIndex({ threshold: 0.9 });
    assert.equal(index.add('a', 'Change my flight to May 20'), null);
    assert.equal(index.add('b', 'change my flight to may 20!!'), 'a');
    assert.equal(index.add('c', 'Cancel reservation ZFA04Y'), null);
    assert.equal(index.add('d', 'Hi, please change my flight to May 20'), 'a');
    assert.equal(index.size, 2);
  });

  it('points a duplicate at its most similar kept item', () => {
    const index = new NearDuplicateIndex({ threshold: 0.5 });
    assert.equal(index.add('route', 'book flight new york seattle may 20 economy'), null);
    assert.equal(index.add('other', 'book flight boston miami june 3 economy'), null);
    assert.equal(
      index.add('dup', 'please book a flight from new york to seattle on may 20, economy'),
      'route',
    );
  });

  it('validates options and picks bands from the threshold', () => {
    assert.throws(() => new NearDuplicateIndex({ threshold: 0 }), /threshold/);
    assert.throws(() => new NearDuplicateIndex({ threshold: 0.8, bands: 3 }), /bands/);
    assert.equal(defaultBands(DEFAULT_NEAR_DUPLICATE_THRESHOLD), 32);
    assert.equal(new NearDuplicateIndex({ threshold: 0.8, bands: 16 }).bands, 16);
  });

  it('scales to 20,000 short texts', () => {
    const words = (
      'flight reservation cancel change book refund baggage seat upgrade economy business ' +
      'basic first class window aisle meal insurance delay compensation passenger name date ' +
      'return outbound one way round trip newark seattle boston miami denver houston austin ' +
      'chicago atlanta dallas phoenix orlando monday tuesday friday morning evening night gift ' +
      'card certificate credit points status gold silver regular pet infant stroller wheelchair'
    ).split(' ');
    // mulberry32: a tiny seeded generator, so the corpus is the same on every run.
    let state = 0x2545f491;
    const next = () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const index = new NearDuplicateIndex({ threshold: DEFAULT_NEAR_DUPLICATE_THRESHOLD });
    let duplicates = 0;
    for (let i = 0; i < 20_000; i++) {
      const length = 6 + Math.floor(next() * 7);
      const text = Array.from({ length }, () => words[Math.floor(next() * words.length)]).join(' ');
      if (index.add(`t${i}`, `${text} ${i % 97}`) !== null) duplicates += 1;
    }
    assert.equal(index.size + duplicates, 20_000);
    assert.ok(duplicates < 200, `${duplicates} random texts flagged as duplicates`);
  });
});
