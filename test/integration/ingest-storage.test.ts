import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { CandidateReader } from '../../traces/store/sample-candidate-reader.js';
import { randomArc } from '../../traces/random-arc.js';
import { userText } from '../../traces/user-text.js';
import { createSampleActivities } from '../../activities/sample-traces.js';
import {
  selectSampleFromGroups,
  selectSample,
  strataOrder,
  type SampleCandidate,
} from '../../traces/sample-selection.js';
import { ensureAgent } from '../../registry/store/agent-repository.js';
import type { Db } from '../../db/connection.js';
import { readTrace } from '../../traces/store/trace-reader.js';
import { TraceWriter } from '../../traces/store/trace-writer.js';
import { SamplingPolicy } from '../../schemas/sampling-policy.js';
import { TraceRecord } from '../../schemas/trace.js';
import { startTestDatabase } from '../helpers/test-stack.js';

const DAY = 86_400_000;
const NOW = Date.now();
const WINDOW = { windowStart: new Date(NOW - 7 * DAY).toISOString(), windowEnd: new Date(NOW).toISOString() };
const NUL = String.fromCharCode(0);

/** 3,000 traces of 30 users in the window; every 6th asks the same thing, so dedup skips. */
function traffic(): TraceRecord[] {
  return Array.from({ length: 3000 }, (_, i) =>
    TraceRecord.parse({
      id: `q-${i}`,
      agent: 'reads',
      userId: `user-${i % 30}`,
      timestamp: new Date(NOW - 6.9 * DAY + i * 190_000).toISOString(),
      input: {
        messages: [
          { role: 'user', content: i % 6 === 0 ? 'Where is my refund?' : `Question ${i}: booking ${i * 37}` },
        ],
      },
      output: { action: 'respond', content: 'ok' },
      ...(i % 11 === 0 ? { feedback: { score: -1 } } : {}),
      ...(i % 17 === 0 ? { status: 'error' } : {}),
      ...(i % 23 === 0 ? { outcome: 'escalated' } : {}),
      attributes: { refund_amount: i % 13 === 0 ? 900 : 10 },
    }),
  );
}

/** The reference: every candidate of the window read row by row, then selected. */
async function fullRead(db: Db, policy: SamplingPolicy, seed: number) {
  const order = strataOrder(policy);
  const rows = await sql<{
    id: string;
    user_id: string | null;
    sample_key: number;
    feedback: number | null;
    status: string;
    outcome: string | null;
    strata: string[];
    input: unknown;
  }>`select id, user_id, sample_key, feedback, status, outcome, strata, input from traces
     where agent_id = 'reads' and started_at >= ${new Date(WINDOW.windowStart)} and started_at < ${new Date(WINDOW.windowEnd)}`.execute(
    db,
  );
  const { start } = randomArc(seed, policy.rate);
  const texts = new Map(rows.rows.map((r) => [r.id, userText(r.input)]));
  const candidates: SampleCandidate[] = rows.rows.map((r) => {
    const u = r.sample_key - start < 0 ? r.sample_key - start + 1 : r.sample_key - start;
    const matched: Record<string, boolean> = {
      negative_feedback: (r.feedback ?? 0) < 0,
      escalation: r.outcome === 'escalated',
      error: r.status === 'error' || r.outcome === 'error',
    };
    return {
      id: r.id,
      userId: r.user_id,
      u,
      strata: order.filter((name) => matched[name] ?? r.strata.includes(name)),
      random: u < policy.rate,
    };
  });
  const result = selectSample(candidates, policy, (id) => texts.get(id));
  assert.ok(result.done);
  return result.selection;
}

describe('ingest storage and sampling reads on Postgres', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let db: Db;

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    await ensureAgent(db, 'reads', {
      sampling: { strata: { custom: [{ name: 'big_refund', where: 'refund_amount > 500' }] } },
    });
    assert.equal((await new TraceWriter(db).write(traffic())).inserted, 3000);
  });
  after(() => database?.teardown());

  it('binary COPY stores what Postgres reads from the text form: microseconds, offsets, NUL, unicode', async () => {
    const trace = TraceRecord.parse({
      id: 'edge-1',
      agent: 'edges',
      sessionId: `tab\there${NUL}`,
      promptVersion: 3,
      timestamp: '2026-03-01T10:00:00.1234565+05:30',
      endTimestamp: '2026-03-01T04:30:01.000001Z',
      input: { messages: [{ role: 'user', content: `emoji 🛫, back\\slash, nul ${NUL}, "quotes"` }] },
      output: { action: 'respond', content: 'line\nbreak' },
      feedback: { score: -1, text: 'naïve' },
      usage: { inputTokens: 2_000_000_000, outputTokens: 0 },
      costUsd: 0.125,
      latencyMs: 1000.000001,
      attributes: { nested: { list: [1, 'two', null] }, nul: `x${NUL}y` },
    });
    await new TraceWriter(db).write([trace]);
    const row = await sql<Record<string, unknown>>`
      select started_at = '2026-03-01T10:00:00.1234565+05:30'::timestamptz as start_exact,
        ended_at = '2026-03-01T04:30:01.000001Z'::timestamptz as end_exact,
        session_id, prompt_version, feedback, feedback_text, input_tokens, output_tokens, cost_usd, latency_ms,
        input->'messages'->0->>'content' as content, attributes
      from traces where id = 'edge-1'`.execute(db);
    assert.deepEqual(row.rows[0], {
      start_exact: true,
      end_exact: true,
      session_id: 'tab\there\ufffd',
      prompt_version: 3,
      feedback: -1,
      feedback_text: 'naïve',
      input_tokens: 2_000_000_000,
      output_tokens: 0,
      cost_usd: 0.125,
      latency_ms: 1000.000001,
      content: 'emoji 🛫, back\\slash, nul \ufffd, "quotes"',
      attributes: { nested: { list: [1, 'two', null] }, nul: 'x\ufffdy' },
    });
    const back = await readTrace(db, 'edge-1');
    assert.deepEqual(back?.output, { action: 'respond', arguments: {}, content: 'line\nbreak' });
  });

  for (const [name, overrides] of [
    ['the agent policy with a binding cap', { maxSample: 120 }],
    ['per-user caps that skip most candidates', { rate: 0.5, maxSample: 400, perUserCap: 4 }],
    ['a rate of 1 and dedup', { rate: 1, maxSample: 900 }],
    [
      'equal allocation without dedup',
      { allocation: 'equal', maxSample: 90, dedup: { exact: false, near: false } },
    ],
    ['no random share', { rate: 0, maxSample: 2000 }],
  ] as const) {
    it(`reading candidate prefixes picks what reading every candidate picks: ${name}`, async () => {
      const policy: SamplingPolicy = {
        ...SamplingPolicy.parse({
          strata: { custom: [{ name: 'big_refund', where: 'refund_amount > 500' }] },
        }),
        ...overrides,
      };
      for (const seed of [1, 4]) {
        const reader = new CandidateReader(
          db,
          { agent: 'reads', cycleId: 'prefix-check', ...WINDOW, seed },
          policy,
        );
        const groups = await reader.initialGroups();
        let result = selectSampleFromGroups(groups, policy, (id) => reader.texts.get(id));
        while (!result.done) {
          await reader.loadTexts(result.needText);
          for (const group of result.needMore)
            groups.set(group, await reader.more(group, groups.get(group)?.size ?? 0));
          result = selectSampleFromGroups(groups, policy, (id) => reader.texts.get(id));
        }
        const expected = await fullRead(db, policy, seed);
        assert.deepEqual(result.selection.picked, expected.picked, `seed ${seed}`);
        assert.deepEqual(result.selection.skipped, expected.skipped, `seed ${seed}`);
      }
    });
  }

  it('counts a small window exactly', async () => {
    await db
      .insertInto('cycles')
      .values({
        id: 'reads-cycle',
        agent_id: 'reads',
        run_id: 'r',
        stage: 'sampling',
        outcome: 'running',
        window_start: WINDOW.windowStart,
        window_end: WINDOW.windowEnd,
        input: '{}',
      })
      .execute();
    const result = await createSampleActivities({ db }).sampleTraces({
      cycleId: 'reads-cycle',
      agent: 'reads',
      ...WINDOW,
      seed: 2,
    });
    assert.equal(result.inWindow, 3000);
    assert.equal(result.inWindowExact, true);
  });
});
