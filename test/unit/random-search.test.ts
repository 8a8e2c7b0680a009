import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ask,
  initRandomSearch,
  outcome,
  tell,
  type RandomSearchState,
} from '../../optimizers/random-search.js';
import { nextFloat, seedPrng } from '../../optimizers/prng.js';

const scoreOf = (id: string) => (id === 'base' ? 0.3 : (Number(id.slice(1)) % 7) / 10);

/** Runs the optimizer against a fake objective, optionally checkpointing through JSON each step. */
function run(seed: number, maxRollouts: number, checkpointEveryStep = false) {
  let state: RandomSearchState = initRandomSearch({
    seed,
    baselineCandidateId: 'base',
    proposals: 12,
    maxRollouts,
  });
  const order: string[] = [];
  for (let guard = 0; guard < 100; guard++) {
    const req = ask(state);
    if (req.kind === 'done') return { result: outcome(state), order, reason: req.reason };
    if (req.kind === 'propose')
      tell(state, {
        kind: 'proposed',
        candidateIds: Array.from({ length: req.count }, (_, i) => `c${i + 1}`),
      });
    else {
      order.push(req.candidateId);
      tell(state, {
        kind: 'evaluated',
        candidateId: req.candidateId,
        score: scoreOf(req.candidateId),
        rollouts: 10,
      });
    }
    if (checkpointEveryStep) state = JSON.parse(JSON.stringify(state)) as RandomSearchState;
  }
  throw new Error('optimizer did not stop');
}

describe('random-search optimizer (ask/tell)', () => {
  it('evaluates the baseline first, then asks the teacher, then draws candidates without replacement', () => {
    const { order } = run(1, 10_000);
    assert.equal(order[0], 'base');
    assert.equal(new Set(order).size, order.length);
    assert.equal(order.length, 13);
  });

  it('stops when the next evaluation would exceed the rollout budget', () => {
    const { result, reason } = run(1, 55);
    assert.equal(result.rolloutsUsed, 50);
    assert.match(reason, /budget/);
  });

  it('returns the best candidate and keeps the baseline on ties', () => {
    const { result } = run(3, 10_000);
    assert.equal(result.bestScore, 0.6);
    assert.equal(result.baselineScore, 0.3);
    const tie = initRandomSearch({ seed: 1, baselineCandidateId: 'base', proposals: 1, maxRollouts: 100 });
    ask(tie);
    tell(tie, { kind: 'evaluated', candidateId: 'base', score: 0.5, rollouts: 1 });
    ask(tie);
    tell(tie, { kind: 'proposed', candidateIds: ['x'] });
    ask(tie);
    tell(tie, { kind: 'evaluated', candidateId: 'x', score: 0.5, rollouts: 1 });
    assert.equal(outcome(tie).bestCandidateId, 'base');
  });

  it('resumes bit-for-bit from a JSON checkpoint', () => {
    assert.deepEqual(run(7, 90, true), run(7, 90, false));
  });

  it('different seeds draw different orders', () => {
    assert.notDeepEqual(run(1, 10_000).order, run(2, 10_000).order);
  });

  it('rejects a result that does not answer the pending request', () => {
    const state = initRandomSearch({ seed: 1, baselineCandidateId: 'base', proposals: 2, maxRollouts: 100 });
    ask(state);
    assert.throws(
      () => tell(state, { kind: 'evaluated', candidateId: 'other', score: 1, rollouts: 1 }),
      /does not answer/,
    );
  });

  it('prng floats are uniform enough', () => {
    const s = seedPrng(42);
    const bins = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) bins[Math.floor(nextFloat(s) * 10)]++;
    for (const b of bins) assert.ok(b > 900 && b < 1100, `bin ${b}`);
  });
});
