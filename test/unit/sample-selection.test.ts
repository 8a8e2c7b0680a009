import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  allocate,
  groupQuotas,
  RANDOM,
  randomCountCap,
  selectSample,
  type SampleCandidate,
} from '../../traces/sample-selection.js';
import { unitInterval } from '../../optimizers/stable-hash.js';
import { matchCustomStrata } from '../../traces/strata-match.js';
import { TraceRecord } from '../../schemas/trace.js';
import { SamplingPolicy, parsePredicate } from '../../schemas/sampling-policy.js';

const policy = (overrides: Partial<SamplingPolicy> = {}) => ({ ...SamplingPolicy.parse({}), ...overrides });

/** 3,000 traces: u uniform by hash, every 20th thumbs-down, every 50th an error, 30 users. */
function population(rate: number): SampleCandidate[] {
  return Array.from({ length: 3000 }, (_, i) => {
    const u = unitInterval(`t-${i}`, 3);
    const strata = [...(i % 20 === 0 ? ['negative_feedback'] : []), ...(i % 50 === 0 ? ['error'] : [])];
    return { id: `t-${i}`, userId: `user-${i % 30}`, u, strata, random: u < rate };
  });
}
const texts = (id: string) => `request number ${id.replace(/\D/g, '')} about booking ${id}`;

function run(
  candidates: SampleCandidate[],
  p: SamplingPolicy,
  textOf: (id: string) => string | undefined = texts,
) {
  const result = selectSample(candidates, p, textOf);
  assert.ok(result.done, 'all texts were available');
  return result.selection;
}

describe('sample selection', () => {
  it('takes every trace of an always-sampled stratum while the cap does not bind', () => {
    const s = run(population(0.05), policy({ maxSample: 10_000 }));
    const reasons = new Map(s.picked.map((p) => [p.traceId, p]));
    for (let i = 0; i < 3000; i += 20) assert.equal(reasons.get(`t-${i}`)?.reason, 'negative_feedback');
    // A trace in two strata is taken once, for the first, and records both.
    assert.deepEqual(reasons.get('t-100')?.reasons.slice(0, 2), ['negative_feedback', 'error']);
    assert.equal(s.strata['error']!.available, 3000 / 50 - 3000 / 100);
  });

  it('nests random samples as the rate grows', () => {
    for (const [low, high] of [
      [0.02, 0.05],
      [0.05, 0.2],
    ] as const) {
      const pick = (rate: number) =>
        new Set(
          run(population(rate), policy({ rate, maxSample: 10_000 }))
            .picked.filter((p) => p.reason === 'random')
            .map((p) => p.traceId),
        );
      const small = pick(low);
      const large = pick(high);
      assert.ok(small.size > 0 && large.size > small.size);
      for (const id of small) assert.ok(large.has(id), `${id} sampled at ${low} but not at ${high}`);
    }
  });

  it('is deterministic and records a reason for every pick', () => {
    const a = run(population(0.1), policy({ maxSample: 120 }));
    const b = run(population(0.1), policy({ maxSample: 120 }));
    assert.deepEqual(a, b);
    for (const p of a.picked) assert.ok(p.reasons.includes(p.reason));
  });

  it('allocates a binding cap across strata and keeps a random share', () => {
    const s = run(population(0.2), policy({ maxSample: 100, minRandomShare: 0.2 }));
    assert.equal(s.picked.length, 100);
    assert.equal(s.strata['random']!.picked, 20);
    // 150 thumbs-down and 30 errors share 80 proportionally: 67 and 13.
    assert.equal(s.strata['negative_feedback']!.picked, 67);
    assert.equal(s.strata['error']!.picked, 13);
    const equal = run(population(0.2), policy({ maxSample: 100, minRandomShare: 0.2, allocation: 'equal' }));
    assert.equal(equal.strata['error']!.picked, 30);
    assert.equal(equal.strata['negative_feedback']!.picked, 50, 'what the small stratum cannot use flows on');
    assert.equal(equal.strata['random']!.picked, 20);
  });

  it('caps traces per user', () => {
    const s = run(population(0.5), policy({ perUserCap: 3, maxSample: 10_000 }));
    const perUser = new Map<string, number>();
    for (const p of s.picked) {
      const user = `user-${Number(p.traceId.slice(2)) % 30}`;
      perUser.set(user, (perUser.get(user) ?? 0) + 1);
    }
    assert.equal(Math.max(...perUser.values()), 3);
    assert.equal(s.picked.length, 90);
    assert.ok(s.skipped.userCap > 0);
  });

  it('drops exact and paraphrased duplicates and fills their places from the same group', () => {
    const requests = [
      'I want to cancel my reservation ZFA04Y',
      'Hi, please cancel my reservation ZFA04Y, I want to cancel it',
      'i want to cancel my reservation zfa04y!',
      'Can you change my flight to May 20?',
      'What is the baggage allowance for gold members?',
    ];
    const candidates = requests.map((_, i) => ({
      id: `d-${i}`,
      userId: null,
      u: i / 10,
      strata: [],
      random: true,
    }));
    const s = run(candidates, policy({ rate: 1, maxSample: 10 }), (id) => requests[Number(id.slice(2))]);
    assert.deepEqual(
      s.picked.map((p) => p.traceId),
      ['d-0', 'd-3', 'd-4'],
    );
    assert.equal(s.skipped.exactDuplicate + s.skipped.nearDuplicate, 2);
    const kept = run(
      candidates,
      policy({ rate: 1, maxSample: 10, dedup: { exact: false, near: false } }),
      () => undefined,
    );
    assert.equal(kept.picked.length, 5, 'without dedup no text is needed');
  });

  it('asks for the texts it needs instead of guessing', () => {
    const first = selectSample(population(0.1), policy({ maxSample: 50 }), () => undefined);
    assert.equal(first.done, false);
    if (!first.done) assert.ok(first.needText.length >= 50);
  });

  it('allocation never exceeds a group and hands out the whole total', () => {
    const q = allocate(
      new Map([
        ['a', 5],
        ['b', 100],
        ['c', 40],
      ]),
      60,
      'equal',
    );
    assert.deepEqual([...q.values()], [5, 28, 27]);
  });

  it('parses predicates and rejects ones it cannot read', () => {
    assert.deepEqual(parsePredicate('refund_amount > 500'), { field: 'refund_amount', op: '>', value: 500 });
    assert.deepEqual(parsePredicate('tier = "gold"'), { field: 'tier', op: '=', value: 'gold' });
    assert.throws(() => parsePredicate('refund_amount ~ 5'), /<attribute> <op> <value>/);
    assert.throws(() => parsePredicate('tier > gold'), /needs a number/);
    assert.equal(
      SamplingPolicy.safeParse({ strata: { custom: [{ name: 'big', where: 'x ~ 3' }] } }).success,
      false,
    );
  });
});

describe('custom strata predicates', () => {
  const trace = TraceRecord.parse({
    id: 't',
    agent: 'a',
    timestamp: '2026-01-01T00:00:00Z',
    latencyMs: 12_000,
    input: { messages: [{ role: 'user', content: 'x' }] },
    output: { action: 'respond' },
    attributes: { refund_amount: 720, tier: 'gold', note: 'Payment TIMEOUT at gateway', amount_text: '99' },
  });
  const strata = (where: string) => matchCustomStrata(trace, [{ name: 's', where }]);

  it('compares numbers, strings and columns, and treats a missing field as no match', () => {
    assert.deepEqual(strata('refund_amount > 500'), ['s']);
    assert.deepEqual(strata('refund_amount > 720'), []);
    assert.deepEqual(strata('amount_text >= 99'), ['s'], 'numeric strings compare as numbers');
    assert.deepEqual(strata('tier = "gold" and refund_amount >= 720'), ['s']);
    assert.deepEqual(strata('tier != gold'), []);
    assert.deepEqual(strata('note contains timeout'), ['s']);
    assert.deepEqual(strata('latency_ms > 10000'), ['s']);
    assert.deepEqual(strata('missing_key > 1'), []);
    assert.deepEqual(strata('missing_key != 1'), [], 'absent is not "different"');
  });
});

describe('randomCountCap', () => {
  it("gives the same quotas as the random group's true size when the count stops at it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 3000 }), { minLength: 0, maxLength: 4 }),
        fc.nat({ max: 5000 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom('proportional' as const, 'equal' as const),
        (strataSizes, trueRandom, maxSample, minRandomShare, allocation) => {
          const p = policy({ maxSample, minRandomShare, allocation });
          const strata = new Map(strataSizes.map((n, i) => [`s${i}`, n]));
          const cap = randomCountCap(strata, p);
          const counted = Math.min(trueRandom, cap);
          const reported = counted >= cap ? maxSample + 1 : counted;
          const exact = groupQuotas(new Map([...strata, [RANDOM, trueRandom]]), p);
          const bounded = groupQuotas(new Map([...strata, [RANDOM, reported]]), p);
          assert.deepEqual(bounded, exact);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('counts far fewer than maxSample when the strata alone fill the sample', () => {
    const p = policy({ maxSample: 1000, minRandomShare: 0.1 });
    const cap = randomCountCap(
      new Map([
        ['negative_feedback', 8000],
        ['error', 3000],
      ]),
      p,
    );
    assert.equal(cap, 101);
    assert.equal(randomCountCap(new Map(), p), 1001);
  });
});
