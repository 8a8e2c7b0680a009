import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSampleActivities } from '../../activities/sample-traces.js';
import { ensureAgent } from '../../registry/store/agent-repository.js';
import type { Db } from '../../db/connection.js';
import { dropExpiredTracePartitions, listTracePartitions } from '../../traces/store/trace-partitions.js';
import { TraceWriter } from '../../traces/store/trace-writer.js';
import type { TraceRecordInput } from '../../schemas/trace.js';
import { TraceRecord } from '../../schemas/trace.js';
import { startTestDatabase } from '../helpers/test-stack.js';

const DAY = 86_400_000;
const NOW = Date.now();
const WINDOW = { windowStart: new Date(NOW - 7 * DAY).toISOString(), windowEnd: new Date(NOW).toISOString() };

const TOPICS = [
  'baggage allowance',
  'seat upgrade',
  'flight status',
  'meal options',
  'pet policy',
  'wifi',
  'lounge access',
];

/** 2,000 traces over 7 days with rare strata, 40 users, PII in some inputs, and a few near-copies. */
function traffic(): TraceRecord[] {
  return Array.from({ length: 2000 }, (_, i) => {
    const record: TraceRecordInput = {
      id: `s-${i}`,
      agent: 'sampling',
      userId: `user-${i % 40}`,
      timestamp: new Date(NOW - 6.5 * DAY + i * 250_000).toISOString(),
      input: {
        messages: [
          {
            role: 'user',
            content:
              i === 7
                ? 'Please email me at jane.doe@example.com or call +1 415 555 2671 about card 4111 1111 1111 1111'
                : `Question ${i} about ${TOPICS[i % TOPICS.length]} on booking code B${i}X${(i * 7) % 97}`,
          },
        ],
      },
      output: { action: 'respond', content: 'ok' },
      ...(i % 97 === 0 ? { feedback: { score: -1 } } : {}),
      ...(i % 151 === 0 ? { outcome: 'escalated' } : {}),
      ...(i % 173 === 0 ? { status: 'error' } : {}),
      attributes: { refund_amount: i % 113 === 0 ? 900 : 20, tier: i % 2 ? 'gold' : 'basic' },
    };
    return TraceRecord.parse(record);
  });
}

describe('weekly sampling on partitioned Postgres', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let db: Db;
  let cycles = 0;
  const sample = async (overrides: { rate?: number; maxSample?: number; seed?: number } = {}) => {
    const cycleId = `cycle-sampling-${cycles++}`;
    await db
      .insertInto('cycles')
      .values({
        id: cycleId,
        agent_id: 'sampling',
        run_id: 'r',
        stage: 'sampling',
        outcome: 'running',
        window_start: WINDOW.windowStart,
        window_end: WINDOW.windowEnd,
        input: '{}',
      })
      .execute();
    const result = await createSampleActivities({ db }).sampleTraces({
      cycleId,
      agent: 'sampling',
      ...WINDOW,
      seed: overrides.seed ?? 1,
      rate: overrides.rate,
      maxSample: overrides.maxSample,
    });
    const rows = await db
      .selectFrom('samples')
      .select(['trace_id', 'reason', 'reasons', 'redacted', 'redactions'])
      .where('cycle_id', '=', cycleId)
      .execute();
    return { cycleId, result, rows, byId: new Map(rows.map((r) => [r.trace_id, r])) };
  };

  const configure = (sampling: { skipSampledBefore: boolean }) =>
    ensureAgent(db, 'sampling', {
      sampling: {
        rate: 0.05,
        maxSample: 5000,
        perUserCap: null,
        strata: { custom: [{ name: 'big_refund', where: 'refund_amount > 500' }] },
        dedup: { exact: true, near: true },
        ...sampling,
      },
      redaction: { custom: [{ name: 'booking_code', pattern: 'B\\d+X\\d+' }] },
    });

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    // The tests below sample the same window under several cycles and compare the picks, so
    // earlier cycles' picks stay candidates except where a test turns that on.
    await configure({ skipSampledBefore: false });
    const records = traffic();
    // Eight days ago (outside the window) and 40 days ago (past retention).
    const old = [8, 40].map((days, k) =>
      TraceRecord.parse({
        ...records[97]!,
        id: `old-${k}`,
        timestamp: new Date(NOW - days * DAY).toISOString(),
      }),
    );
    // Paraphrases of trace 1's question, all random-eligible in rate 1 runs.
    const copies = [0, 1, 2].map((k) =>
      TraceRecord.parse({
        ...records[1]!,
        id: `copy-${k}`,
        userId: `copy-user-${k}`,
        input: {
          messages: [
            {
              role: 'user',
              content: [
                'question 1 about seat upgrade on booking code B1X7',
                'Question 1: about the seat upgrade on booking code B1X7!',
                'QUESTION 1 ABOUT SEAT UPGRADE ON BOOKING CODE B1X7',
              ][k],
            },
          ],
        },
      }),
    );
    const writer = new TraceWriter(db);
    assert.equal((await writer.write([...records, ...old, ...copies])).inserted, 2005);
  });
  after(() => database?.teardown());

  // First, while no cycle has sampled the window yet.
  it('leaves out what earlier cycles sampled, and a retry keeps its own picks', async () => {
    await configure({ skipSampledBefore: true });
    try {
      const first = await sample({ rate: 0.1 });
      const second = await sample({ rate: 0.2 });
      assert.ok(first.rows.length > 0 && second.rows.length > 0);
      for (const r of second.rows) assert.ok(!first.byId.has(r.trace_id), `${r.trace_id} sampled twice`);
      // Nothing from the strata is left: the first cycle took every one of them.
      assert.deepEqual(Object.keys(second.result.byReason), ['random']);
      const retry = await createSampleActivities({ db }).sampleTraces({
        cycleId: second.cycleId,
        agent: 'sampling',
        ...WINDOW,
        seed: 1,
        rate: 0.2,
      });
      assert.equal(retry.sampled, second.rows.length, 'a retry re-selects its own traces');
      await configure({ skipSampledBefore: false });
      const everything = await sample({ rate: 0.2 });
      for (const r of second.rows) assert.ok(everything.byId.has(r.trace_id), `${r.trace_id} not at 20%`);
    } finally {
      await configure({ skipSampledBefore: false });
    }
  });

  it('takes every trace of each always-sampled stratum in the window and records why', async () => {
    const { rows, byId, result } = await sample();
    const expect = (pred: (i: number) => boolean, reason: string) => {
      for (let i = 0; i < 2000; i++) {
        if (!pred(i)) continue;
        const row = byId.get(`s-${i}`);
        assert.ok(row, `s-${i} (${reason}) sampled`);
        assert.ok(row.reasons.includes(reason), `s-${i} records ${reason}: ${row.reasons.join(',')}`);
      }
    };
    expect((i) => i % 97 === 0, 'negative_feedback');
    expect((i) => i % 151 === 0, 'escalation');
    expect((i) => i % 173 === 0, 'error');
    expect((i) => i % 113 === 0, 'big_refund');
    assert.ok(!byId.has('old-0'), 'the trace from before the window is not sampled');
    assert.equal(result.inWindow, 2003);
    const random = rows.filter((r) => r.reason === 'random').length;
    assert.ok(random > 50 && random < 160, `about 5% random, got ${random}`);
  });

  it('samples nest as the rate grows and a re-run selects the same traces', async () => {
    const ids = async (rate: number, seed = 1) =>
      new Set(
        (await sample({ rate, seed })).rows
          .filter((r) => r.reasons.includes('random'))
          .map((r) => r.trace_id),
      );
    const low = await ids(0.05);
    const high = await ids(0.2);
    for (const id of low) assert.ok(high.has(id), `${id} at 5% but not at 20%`);
    assert.deepEqual([...(await ids(0.05))].sort(), [...low].sort());
    const otherSeed = await ids(0.05, 2);
    assert.notDeepEqual([...otherSeed].sort(), [...low].sort());
  });

  it('caps the sample, keeps strata first and a random share', async () => {
    const { result } = await sample({ rate: 0.3, maxSample: 60 });
    assert.equal(result.sampled, 60);
    assert.equal(result.byReason['random'], 6, 'minRandomShare 10% of 60');
  });

  it('removes paraphrased near-duplicates of a sampled trace', async () => {
    const { byId, result } = await sample({ rate: 1, maxSample: 5000 });
    const kept = ['s-1', 'copy-0', 'copy-1', 'copy-2'].filter((id) => byId.has(id));
    assert.equal(kept.length, 1, `kept ${kept.join(', ')}`);
    assert.ok(result.skipped.exactDuplicate + result.skipped.nearDuplicate >= 3);
  });

  it('redacts PII in the sampled copy and leaves the raw trace in the traces table', async () => {
    const { byId, result } = await sample({ rate: 1 });
    const row = byId.get('s-7');
    assert.ok(row, 's-7 sampled');
    const text = JSON.stringify(row.redacted);
    assert.doesNotMatch(text, /jane\.doe@example\.com|555 2671|4111 1111/);
    assert.match(text, /\[EMAIL\].*\[PHONE\].*\[CARD\]/);
    assert.deepEqual(row.redactions, { email: 1, phone: 1, card: 1 });
    assert.ok((result.redactions['booking_code'] ?? 0) > 100, 'custom pattern counted');
    const raw = await db
      .selectFrom('traces')
      .select('input')
      .where('id', '=', 's-7')
      .executeTakeFirstOrThrow();
    assert.match(JSON.stringify(raw.input), /jane\.doe@example\.com/);
  });

  it('retention drops whole day partitions older than the setting', async () => {
    const beforeDrop = await listTracePartitions(db);
    // One partition per UTC day that holds a trace: how many days the week's traffic spans
    // depends on the time of day the test runs, so the days are computed, not counted.
    const days = new Set([
      ...traffic().map((t) => t.timestamp.slice(0, 10)),
      ...[8, 40].map((d) => new Date(NOW - d * DAY).toISOString().slice(0, 10)),
    ]);
    const present = new Set(beforeDrop.map((p) => p.day));
    for (const day of days) assert.ok(present.has(day), `a partition for ${day}`);
    const dropped = await dropExpiredTracePartitions(db, new Date(NOW), 30);
    assert.equal(dropped.length, 1);
    const left = await db.selectFrom('traces').select('id').where('id', 'in', ['old-0', 'old-1']).execute();
    assert.deepEqual(
      left.map((r) => r.id),
      ['old-0'],
    );
  });
});
