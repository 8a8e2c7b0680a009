import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { sql } from 'kysely';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import { encodeOtlpProtobuf } from '../../traces/otlp-protobuf.js';
import { traceToOtlp } from '../../traces/otlp-export.js';
import { tauBenchToTraces } from '../../traces/tau-bench-import.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import type { Db } from '../../db/connection.js';
import { readTrace } from '../../traces/store/trace-reader.js';
import { TraceRecord } from '../../schemas/trace.js';
import { startTestDatabase } from '../helpers/test-stack.js';
import { sharedDataset } from '../../scripts/shared-datasets.js';

const TAU_BENCH = sharedDataset('tau_bench/historical_trajectories/gpt-4o-airline.json');

describe('trace ingest over HTTP into partitioned Postgres', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let api: ApiServer;
  let small: ApiServer;
  let token: string;
  let otherToken: string;
  let db: Db;

  const post = (
    path: string,
    body: string | Uint8Array,
    headers: Record<string, string> = {},
    server = api,
  ) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body,
    });
  const count = async (agent: string) =>
    Number(
      (
        await db
          .selectFrom('traces')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('agent_id', '=', agent)
          .executeTakeFirst()
      )?.n ?? 0,
    );

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    await db
      .insertInto('agents')
      .values([
        { id: 'airline', config: '{}' },
        { id: 'retail', config: '{}' },
      ])
      .execute();
    token = (
      await createAgentToken(db, { agent: 'airline', scopes: ['ingest', 'feedback'], createdBy: 'test' })
    ).token;
    otherToken = (await createAgentToken(db, { agent: 'retail', scopes: ['ingest'], createdBy: 'test' }))
      .token;
    // Temporal is not needed for ingest: a lazy client never connects.
    api = await startApiServer(apiDeps(db, new Client()), 0);
    small = await startApiServer(apiDeps(db, new Client(), { maxBodyBytes: 64 * 1024 }), 0);
  });
  after(async () => {
    await api?.close();
    await small?.close();
    await database?.teardown();
  });

  it('imports the 200 tau-bench trajectories with their rewards and gold actions, once', async () => {
    const file = readFileSync(TAU_BENCH, 'utf8');
    const res = await post('/api/import?format=tau-bench&source=gpt-4o-airline&model=gpt-4o', file);
    assert.equal(res.status, 200, await res.clone().text());
    const report = (await res.json()) as { accepted: number; duplicates: number };
    assert.equal(report.accepted, 200);
    const rows = await db
      .selectFrom('traces')
      .select(['id', 'reward', 'outcome', 'expected_actions'])
      .where('agent_id', '=', 'airline')
      .where('id', 'like', 'tau-bench:%')
      .execute();
    assert.equal(rows.length, 200);
    assert.equal(rows.filter((r) => r.reward === 1).length, 84);
    assert.equal(rows.filter((r) => r.outcome === 'failure').length, 116);
    const source = JSON.parse(file) as {
      task_id: number;
      trial: number;
      reward: number;
      info: { task: { actions: { name: string; kwargs: unknown }[] } };
    }[];
    for (const t of source) {
      const row = rows.find((r) => r.id === `tau-bench:gpt-4o-airline:${t.task_id}:${t.trial}`);
      assert.ok(row, `trajectory ${t.task_id}/${t.trial} stored`);
      assert.equal(row.reward, t.reward);
      assert.deepEqual(
        row.expected_actions,
        t.info.task.actions.map((a) => ({ action: a.name, arguments: a.kwargs })),
      );
    }
    const again = (await (await post('/api/import?format=tau-bench&source=gpt-4o-airline', file)).json()) as {
      accepted: number;
      duplicates: number;
    };
    assert.deepEqual([again.accepted, again.duplicates], [0, 200]);
    // The spans survive storage: the message-deduplicated form expands to the same tree.
    const imported = tauBenchToTraces(JSON.parse(file), {
      agent: 'airline',
      source: 'gpt-4o-airline',
      baseTime: '2026-01-01T00:00:00Z',
      model: 'gpt-4o',
    }).traces[7]!;
    const stored = await readTrace(db, imported.id);
    // Imported at the API's clock, so compare everything but the times.
    const timeless = (spans: TraceRecord['spans'] = []) =>
      spans.map(({ startTime: _s, endTime: _e, ...rest }) => rest);
    assert.equal(stored?.spans.length, imported.spans.length);
    assert.deepEqual(timeless(stored?.spans), timeless(imported.spans));
  });

  it('OTLP JSON generated from tau-bench round-trips, merging spans sent in two batches, children first', async () => {
    const traces = tauBenchToTraces(JSON.parse(readFileSync(TAU_BENCH, 'utf8')), {
      agent: 'airline',
      source: 'otlp',
      baseTime: new Date(Date.now() - 3600_000).toISOString(),
      model: 'gpt-4o',
    }).traces.slice(0, 6);
    for (const [i, trace] of traces.entries()) {
      const request = traceToOtlp(trace, { convention: i % 2 === 0 ? 'openinference' : 'genai' });
      const spans = request.resourceSpans[0]!.scopeSpans[0]!.spans;
      const isRoot = (s: { parentSpanId?: string }) => !s.parentSpanId;
      const batch = (keep: (s: (typeof spans)[number]) => boolean) => ({
        resourceSpans: [
          {
            ...request.resourceSpans[0]!,
            scopeSpans: [{ ...request.resourceSpans[0]!.scopeSpans[0]!, spans: spans.filter(keep) }],
          },
        ],
      });
      const first = await post('/v1/traces', JSON.stringify(batch((s) => !isRoot(s))));
      assert.equal(first.status, 200, await first.clone().text());
      const gz = await post('/v1/traces', gzipSync(JSON.stringify(batch(isRoot))), {
        'content-encoding': 'gzip',
      });
      assert.equal(gz.status, 200, await gz.clone().text());
      const stored = await readTrace(db, trace.id);
      assert.ok(stored, `trace ${trace.id} stored`);
      const norm = (t: TraceRecord) => {
        // OTLP carries spans, not benchmark labels: gold actions, reward and outcome stay behind.
        const {
          usage: _u,
          attributes: _a,
          expectedActions: _x,
          reward: _r,
          outcome: _o,
          ...rest
        } = TraceRecord.parse(t);
        return rest;
      };
      assert.deepEqual(norm(stored), norm(trace));
    }
    const ids = traces.map((t) => t.id);
    const rows = await db.selectFrom('traces').select('id').where('id', 'in', ids).execute();
    assert.equal(rows.length, traces.length, 'one row per trace after three batches each');
  });

  it('OTLP protobuf decodes to the same trace as JSON', async () => {
    const trace = tauBenchToTraces(JSON.parse(readFileSync(TAU_BENCH, 'utf8')), {
      agent: 'airline',
      source: 'protobuf',
      baseTime: new Date(Date.now() - 7200_000).toISOString(),
    }).traces[11]!;
    const body = encodeOtlpProtobuf(traceToOtlp(trace, { convention: 'openinference' }));
    const res = await post('/v1/traces', body, { 'content-type': 'application/x-protobuf' });
    assert.equal(res.status, 200, await res.clone().text());
    const stored = await readTrace(db, trace.id);
    assert.deepEqual(stored?.spans, trace.spans);
    assert.deepEqual(stored?.expectedActions, undefined, 'OTLP carries no gold actions');
  });

  it('a malformed span is rejected by path while the good spans of the request are stored', async () => {
    const trace = tauBenchToTraces(JSON.parse(readFileSync(TAU_BENCH, 'utf8')), {
      agent: 'airline',
      source: 'bad-span',
      baseTime: new Date(Date.now() - 5000_000).toISOString(),
    }).traces[20]!;
    const request = traceToOtlp(trace, { convention: 'genai' });
    const spans = request.resourceSpans[0]!.scopeSpans[0]!.spans as Record<string, unknown>[];
    const good = spans.length;
    spans.push(
      { ...spans[1], spanId: 'not-hex', traceId: 'zz' },
      { ...spans[2], startTimeUnixNano: 'yesterday' },
    );
    const res = await post('/v1/traces', JSON.stringify(request));
    // OTLP partial success: 200, so an exporter neither retries nor counts the batch as lost.
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      partialSuccess: { rejectedSpans: number; errorMessage: string };
      acceptedSpans: number;
      errors: { item: string; error: string }[];
    };
    assert.equal(body.partialSuccess.rejectedSpans, 2);
    assert.equal(body.acceptedSpans, good);
    assert.match(body.errors[0]!.item, /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[\d+\]/);
    assert.equal((await readTrace(db, trace.id))?.spans.length, good);
    // Sending the same request again stores nothing new.
    await post('/v1/traces', JSON.stringify(request));
    assert.equal((await db.selectFrom('traces').select('id').where('id', '=', trace.id).execute()).length, 1);
    assert.equal((await readTrace(db, trace.id))?.spans.length, good);
  });

  it('answers bad requests without crashing or losing data: not JSON, too large, bad or missing token', async () => {
    const before = await count('airline');
    const notJson = await post('/v1/traces', '{"resourceSpans": [');
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as { error: string }).error, /not valid JSON/);
    const noArray = await post('/v1/traces', '{"hello": 1}');
    assert.equal(noArray.status, 400);
    const notGzip = await post('/v1/traces', '{"resourceSpans": []}', { 'content-encoding': 'gzip' });
    assert.equal(notGzip.status, 400);

    const big = await post(
      '/v1/traces',
      JSON.stringify({ resourceSpans: [], pad: 'x'.repeat(100_000) }),
      {},
      small,
    );
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { limit: number }).limit, 64 * 1024);
    const bomb = await post(
      '/v1/traces',
      gzipSync(' '.repeat(1_000_000)),
      { 'content-encoding': 'gzip' },
      small,
    );
    assert.equal(bomb.status, 413, 'the limit applies to the inflated body');

    const unknown = await post('/v1/traces', '{"resourceSpans": []}', {
      authorization: 'Bearer fw_airline_nope',
    });
    assert.equal(unknown.status, 401);
    const missing = await fetch(`${api.url}/api/feedback`, { method: 'POST', body: '{}' });
    assert.equal(missing.status, 401);
    assert.match(((await missing.json()) as { error: string }).error, /Authorization: Bearer/);
    const noScope = await post('/api/feedback', '{"traceId": "x", "score": 1}', {
      authorization: `Bearer ${otherToken}`,
    });
    assert.equal(noScope.status, 403);
    assert.equal(await count('airline'), before);
    assert.equal((await fetch(`${api.url}/health`)).status, 200, 'still serving');
  });

  it('JSONL ingest stores good lines, names bad ones, and keeps agents apart by token', async () => {
    const line = (id: string, agent?: string) =>
      JSON.stringify({
        id,
        ...(agent ? { agent } : {}),
        timestamp: new Date().toISOString(),
        input: { messages: [{ role: 'user', content: 'hi' }] },
        output: { action: 'respond', content: 'hello' },
      });
    const text = [
      line('j-1'),
      '{"id": "broken"',
      line('j-2', 'airline'),
      line('j-3', 'retail'),
      '{"id": "j-4"}',
    ].join('\n');
    const res = await post('/api/traces', text);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { accepted: number; rejected: { item: string; error: string }[] };
    assert.equal(body.accepted, 2);
    assert.deepEqual(
      body.rejected.map((r) => r.item),
      ['line 2', 'line 5', 'line 4'],
    );
    assert.match(body.rejected[2]!.error, /does not match the token's agent/);
    const again = (await (await post('/api/traces', text)).json()) as {
      accepted: number;
      duplicates: number;
    };
    assert.deepEqual([again.accepted, again.duplicates], [0, 2]);
    assert.equal(await count('retail'), 0);
  });

  it('feedback attaches to a trace or a whole session; a bad item is named and the rest applied', async () => {
    const now = Date.now();
    const lines = ['f-1', 'f-2', 'f-3'].map((id, i) =>
      JSON.stringify({
        id,
        sessionId: i < 2 ? 'sess-A' : 'sess-B',
        timestamp: new Date(now - i * 1000).toISOString(),
        input: { messages: [{ role: 'user', content: 'refund please' }] },
        output: { action: 'respond', content: 'ok' },
      }),
    );
    assert.equal((await post('/api/traces', lines.join('\n'))).status, 200);
    const res = await post(
      '/api/feedback',
      JSON.stringify([
        { traceId: 'f-3', score: -1, text: 'wrong refund' },
        { sessionId: 'sess-A', outcome: 'escalated', attributes: { refund_amount: 720 } },
        { traceId: 'f-1', sessionId: 'sess-A', score: 1 },
        { traceId: 'not-yet-ingested', score: -1 },
      ]),
    );
    assert.equal(res.status, 400);
    const body = (await res.json()) as {
      applied: { item: string; matched: number }[];
      rejected: { item: string; error: string }[];
    };
    assert.deepEqual(body.applied, [
      { item: 'item 0', matched: 1 },
      { item: 'item 1', matched: 2 },
      { item: 'item 3', matched: 0 },
    ]);
    assert.equal(body.rejected[0]!.item, 'item 2');
    assert.match(body.rejected[0]!.error, /exactly one of traceId or sessionId/);
    const rows = await db
      .selectFrom('traces')
      .select([
        'id',
        'feedback',
        'feedback_text',
        'outcome',
        sql<number>`(attributes->>'refund_amount')::int`.as('refund'),
      ])
      .where('id', 'in', ['f-1', 'f-2', 'f-3'])
      .orderBy('id')
      .execute();
    assert.deepEqual(
      rows.map((r) => [r.id, r.feedback, r.outcome, r.refund]),
      [
        ['f-1', null, 'escalated', 720],
        ['f-2', null, 'escalated', 720],
        ['f-3', -1, null, null],
      ],
    );
    const events = await db.selectFrom('feedback_events').select(['trace_id', 'matched']).execute();
    assert.ok(
      events.some((e) => e.trace_id === 'not-yet-ingested' && e.matched === 0),
      'unmatched feedback is kept',
    );
  });
});
