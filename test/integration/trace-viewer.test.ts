import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import type { Db } from '../../db/connection.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { reaches, type LineageGraph } from '../../registry/lineage-graph.js';
import { traceToOtlp } from '../../traces/otlp-export.js';
import type { TraceDetail, TraceListPage } from '../../traces/trace-view.js';
import { TraceRecord, type TraceRecordInput } from '../../schemas/trace.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { startTestDatabase } from '../helpers/test-stack.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

describe('trace viewer: GET /api/traces[/:id] and flywheel trace list|show on real PostgreSQL', () => {
  let database: { db: Db; url: string; teardown(): Promise<void> };
  let db: Db;
  let api: ApiServer;
  let airline: string;
  let retail: string;

  // A fixed hour three days back: every trace lands in a partition the writer creates.
  const base = Math.floor((Date.now() - 3 * 86_400_000) / 3_600_000) * 3_600_000;
  const at = (minutes: number, ms = 0) => new Date(base + minutes * 60_000 + ms).toISOString();

  const line = (id: string, minute: number, fields: Partial<TraceRecordInput>) =>
    JSON.stringify({
      id,
      timestamp: at(minute),
      input: { messages: [{ role: 'user', content: `question of ${id}` }] },
      output: { action: 'respond', content: `answer of ${id}` },
      ...fields,
    });

  const ingest = async (token: string, route: string, body: string) => {
    const res = await fetch(`${api.url}${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    assert.equal(res.status, 200, await res.clone().text());
  };
  /** A viewer's credentials: the trace routes are for people with the viewer role. */
  let viewer: Record<string, string> = {};
  const get = async (query: string) => fetch(`${api.url}/api/traces${query}`, { headers: viewer });
  const list = async (query: string) => {
    const res = await get(query);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as TraceListPage;
  };
  const ids = async (query: string) => (await list(query)).traces.map((t) => t.id);

  /** The JSONL trace with a span tree, a failing tool with an exception event and a link. */
  const failing = line('a2', 10, {
    status: 'error',
    outcome: 'failure',
    promptVersion: 2,
    feedback: { score: -1, text: 'it cancelled the wrong booking' },
    input: {
      messages: [
        { role: 'system', content: 'You are an airline agent.' },
        { role: 'user', content: 'Cancel reservation ZX9 please, then mail jane.doe@example.com' },
      ],
    },
    output: { action: 'get_reservation', arguments: { reservation_id: 'ZX9' } },
    spans: [
      {
        spanId: 'root',
        name: 'airline-agent',
        kind: 'agent',
        startTime: at(10),
        endTime: at(10, 900),
        latencyMs: 900,
      },
      {
        spanId: 'llm-1',
        parentSpanId: 'root',
        name: 'chat',
        kind: 'llm',
        model: 'gpt-4o',
        startTime: at(10, 5),
        endTime: at(10, 405),
        latencyMs: 400,
        outputMessages: [
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call-1', name: 'get_reservation', arguments: { reservation_id: 'ZX9' } }],
          },
        ],
      },
      {
        spanId: 'tool-1',
        parentSpanId: 'root',
        name: 'get_reservation',
        kind: 'tool',
        status: 'error',
        statusMessage: 'reservation ZX9 not found',
        startTime: at(10, 410),
        endTime: at(10, 430),
        latencyMs: 20,
        tool: {
          name: 'get_reservation',
          arguments: { reservation_id: 'ZX9' },
          result: '{"error":"not found"}',
        },
        events: [
          {
            name: 'exception',
            time: at(10, 429),
            attributes: {
              'exception.type': 'KeyError',
              'exception.message': "'ZX9'",
              'exception.stacktrace':
                'Traceback (most recent call last):\n  File "tools.py", line 40, in get_reservation\n    return RESERVATIONS[rid]\nKeyError: \'ZX9\'',
            },
          },
        ],
        links: [{ traceId: 'booking-batch', spanId: 'nightly-1' }],
      },
    ],
  });

  /** Sent as OTLP: an agent run whose tool call fails (a tool error leaves the trace ok). */
  const otlpTrace = TraceRecord.parse({
    id: 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5',
    agent: 'airline',
    promptVersion: 3,
    timestamp: at(40),
    input: { messages: [{ role: 'user', content: 'Upgrade me to business tomorrow' }] },
    output: { action: 'upgrade_seat', arguments: { flight: 'HAT042' } },
    spans: [
      {
        spanId: 'aaaaaaaaaaaaaaa1',
        name: 'agent',
        kind: 'agent',
        startTime: at(40),
        endTime: at(40, 700),
        latencyMs: 700,
      },
      {
        spanId: 'aaaaaaaaaaaaaaa2',
        parentSpanId: 'aaaaaaaaaaaaaaa1',
        name: 'ChatCompletion',
        kind: 'llm',
        model: 'gpt-4o',
        startTime: at(40, 10),
        endTime: at(40, 300),
        latencyMs: 290,
        inputMessages: [{ role: 'user', content: 'Upgrade me to business tomorrow' }],
        outputMessages: [
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call-9', name: 'upgrade_seat', arguments: { flight: 'HAT042' } }],
          },
        ],
      },
      {
        spanId: 'aaaaaaaaaaaaaaa3',
        parentSpanId: 'aaaaaaaaaaaaaaa1',
        name: 'upgrade_seat',
        kind: 'tool',
        status: 'error',
        statusMessage: 'no seats left in business',
        startTime: at(40, 310),
        endTime: at(40, 650),
        latencyMs: 340,
        tool: { name: 'upgrade_seat', arguments: { flight: 'HAT042' }, result: 'no seats left' },
        events: [
          {
            name: 'exception',
            time: at(40, 649),
            attributes: { 'exception.type': 'SeatMapError', 'exception.message': 'business is full' },
          },
        ],
      },
    ],
  });

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    await db
      .insertInto('agents')
      .values([
        { id: 'airline', config: '{}' },
        // retail masks its own pattern besides the built-in kinds.
        {
          id: 'retail',
          config: JSON.stringify({ redaction: { custom: [{ name: 'topic', pattern: 'question' }] } }),
        },
      ])
      .execute();
    airline = (await createAgentToken(db, { agent: 'airline', scopes: ['ingest'], createdBy: 'test' })).token;
    retail = (await createAgentToken(db, { agent: 'retail', scopes: ['ingest'], createdBy: 'test' })).token;
    // Reads need no Temporal: a lazy client never connects.
    api = await startApiServer(apiDeps(db, new Client()), 0);
    viewer = (await personWithToken(db, 'reader', 'viewer')).headers;

    await ingest(
      airline,
      '/api/traces',
      [
        line('a1', 0, {
          promptVersion: 1,
          feedback: { score: 1 },
          input: { messages: [{ role: 'user', content: 'I need to change my flight to Boston' }] },
        }),
        failing,
        line('a3', 20, { promptVersion: 2, feedback: { score: 0 } }),
        // a4 and a5 start at the same instant: the id breaks the tie, across pages too.
        line('a4', 30, {
          promptVersion: 2,
          input: { messages: [{ role: 'user', content: 'He said "hurry" twice' }] },
        }),
        line('a5', 30, { promptVersion: 2 }),
      ].join('\n'),
    );
    await ingest(retail, '/api/traces', line('r1', 5, {}));
    await ingest(
      airline,
      '/v1/traces',
      JSON.stringify(traceToOtlp(otlpTrace, { convention: 'openinference' })),
    );

    // What two cycles made of a1 and a2: samples, scores, clusters, a review and a dataset version.
    const cycle = (id: string, hoursAfter: number) => ({
      id,
      agent_id: 'airline',
      run_id: `${id}-run`,
      stage: 'done',
      outcome: 'released',
      window_start: at(-60),
      window_end: at(60),
      input: '{}',
      started_at: new Date(base + hoursAfter * 3_600_000),
    });
    await db
      .insertInto('cycles')
      .values([cycle('c-old', 1), cycle('c-new', 2)])
      .execute();
    await db
      .insertInto('samples')
      .values([
        { cycle_id: 'c-old', trace_id: 'a1', reason: 'random', reasons: ['random'] },
        {
          cycle_id: 'c-old',
          trace_id: 'a2',
          reason: 'negative_feedback',
          reasons: ['negative_feedback', 'errors'],
        },
        { cycle_id: 'c-new', trace_id: 'a2', reason: 'errors', reasons: ['errors'] },
      ])
      .execute();
    await db
      .insertInto('clusters')
      .values([
        {
          id: 'c-old:airline-fc001',
          cycle_id: 'c-old',
          agent_id: 'airline',
          stable_id: 'airline-fc001',
          name: 'Wrong reservation looked up',
          category: 'tool_selection',
          size: 2,
        },
        {
          id: 'c-new:airline-fc002',
          cycle_id: 'c-new',
          agent_id: 'airline',
          stable_id: 'airline-fc002',
          name: 'Missing reservation not handled',
          category: 'planning',
          size: 1,
        },
      ])
      .execute();
    await db
      .insertInto('cluster_members')
      .values([
        { cluster_id: 'c-old:airline-fc001', trace_id: 'a1' },
        { cluster_id: 'c-old:airline-fc001', trace_id: 'a2' },
        { cluster_id: 'c-new:airline-fc002', trace_id: 'a2' },
      ])
      .execute();
    await db
      .insertInto('scores')
      .values([
        {
          cycle_id: 'c-old',
          trace_id: 'a2',
          evaluator: 'judge:task_completion',
          dimension: 'task_completion',
          value: 0,
          label: 'fail',
          category: 'tool_selection',
          explanation: 'looked up a reservation the user did not name',
          source: 'judge',
        },
        {
          cycle_id: 'c-old',
          trace_id: 'a2',
          evaluator: 'format',
          dimension: 'format',
          value: 1,
          label: 'pass',
          category: null,
          explanation: 'valid tool call',
          source: 'code',
        },
      ])
      .execute();
    await db
      .insertInto('annotation_items')
      .values({
        id: 'c-old:item-a2',
        cycle_id: 'c-old',
        trace_id: 'a2',
        cluster_id: 'c-old:airline-fc001',
        judge_label: 'fail',
        judge_category: 'tool_selection',
      })
      .execute();
    await db
      .insertInto('annotations')
      .values({
        item_id: 'c-old:item-a2',
        reviewer: 'alice',
        verdict: 'fail',
        category: 'planning',
        comment: 'should ask which booking first',
        expected: JSON.stringify({ action: 'respond', content: 'Which booking?' }),
      })
      .execute();
    await db
      .insertInto('prompt_versions')
      .values({
        id: 'airline-v2',
        agent_id: 'airline',
        name: 'airline',
        version: 2,
        text: 'v2',
        source: 'manual',
      })
      .execute();
    await db
      .insertInto('datasets')
      .values({ id: 'airline-dataset', agent_id: 'airline', name: 'airline' })
      .execute();
    await db
      .insertInto('dataset_versions')
      .values({
        id: 'dv-1',
        agent_id: 'airline',
        version: 1,
        dataset_id: 'airline-dataset',
        cycle_id: 'c-old',
      })
      .execute();
    await db
      .insertInto('dataset_examples')
      .values({
        id: 'ex-a2',
        dataset_version_id: 'dv-1',
        trace_id: 'a2',
        split: 'train',
        input: '{}',
        expected: '{}',
      })
      .execute();
    await db
      .updateTable('dataset_versions')
      .set({ published_at: new Date() })
      .where('id', '=', 'dv-1')
      .execute();
  });

  after(async () => {
    await api?.close();
    await database?.teardown();
  });

  it('lists every agent’s traces newest first, one agent’s with agent=', async () => {
    const all = await list('');
    assert.deepEqual(
      all.traces.map((t) => t.id),
      [otlpTrace.id, 'a5', 'a4', 'a3', 'a2', 'r1', 'a1'],
    );
    assert.equal(all.nextCursor, null);
    const a2 = all.traces.find((t) => t.id === 'a2')!;
    assert.equal(a2.status, 'error');
    assert.deepEqual(a2.output, {
      action: 'get_reservation',
      preview: 'get_reservation({"reservation_id": "ZX9"})',
    });
    assert.equal(a2.input, 'Cancel reservation ZX9 please, then mail [EMAIL]', 'the preview is redacted');
    assert.equal(
      all.traces.find((t) => t.id === 'r1')?.input,
      '[TOPIC] of r1',
      "each agent's own redaction applies",
    );
    assert.deepEqual(await ids('?agent=retail'), ['r1']);
    assert.deepEqual(await ids('?agent=airline'), [otlpTrace.id, 'a5', 'a4', 'a3', 'a2', 'a1']);
    assert.deepEqual(await ids('?agent=nobody'), []);
  });

  it('filters by time range, status, outcome, feedback, prompt and text', async () => {
    const window = `?from=${encodeURIComponent(at(5))}&to=${encodeURIComponent(at(30))}`;
    assert.deepEqual(await ids(window), ['a3', 'a2', 'r1'], '[from, to): a4 and a5 start at `to`');
    assert.deepEqual(await ids('?status=error'), ['a2']);
    assert.deepEqual(await ids('?status=ok&agent=airline&limit=3'), [otlpTrace.id, 'a5', 'a4']);
    assert.deepEqual(await ids('?outcome=failure'), ['a2']);
    assert.deepEqual(await ids('?feedback=positive'), ['a1']);
    assert.deepEqual(await ids('?feedback=negative'), ['a2']);
    assert.deepEqual(await ids('?feedback=neutral'), ['a3']);
    assert.deepEqual(await ids('?feedback=none'), [otlpTrace.id, 'a5', 'a4', 'r1']);
    assert.deepEqual(await ids('?promptVersion=2'), ['a5', 'a4', 'a3', 'a2']);
    assert.deepEqual(await ids('?promptVersion=3'), [otlpTrace.id], 'the OTLP resource attribute is kept');
    assert.deepEqual(await ids('?promptName=airline&promptVersion=1'), ['a1']);
    assert.deepEqual(await ids('?q=boston'), ['a1'], 'case-insensitive');
    assert.deepEqual(await ids('?q=ZX9'), ['a2']);
    assert.deepEqual(await ids('?q=HAT042'), [otlpTrace.id], 'tool-call arguments are searched');
    assert.deepEqual(await ids(`?q=${encodeURIComponent('"hurry"')}`), ['a4'], 'quotes match as typed');
    assert.deepEqual(await ids('?q=messages'), [], 'JSON keys are not text');
    assert.deepEqual(await ids('?q=user'), [], 'nor are role names');
    assert.deepEqual(
      await ids('?q=an%20airline%20agent'),
      [],
      'the system prompt is left out: every trace has it',
    );
    assert.deepEqual(await ids('?q=%25'), [], 'LIKE wildcards are literal: %');
    assert.deepEqual(
      await ids('?q=_'),
      [otlpTrace.id, 'a2'],
      'LIKE wildcards are literal: _ finds the tool names, not every trace',
    );
  });

  it('filters by cluster as the latest cycle that clustered a trace saw it', async () => {
    assert.deepEqual(await ids('?cluster=airline-fc001'), ['a1'], 'a2 moved to another cluster in c-new');
    assert.deepEqual(await ids('?cluster=c-old:airline-fc001'), ['a1']);
    assert.deepEqual(await ids('?cluster=airline-fc002'), ['a2']);
    assert.deepEqual(await ids(`?cluster=${encodeURIComponent('c-new:airline-fc002')}&status=error`), ['a2']);
    assert.deepEqual(await ids('?cluster=no-such-cluster'), []);
  });

  it('pages with an opaque cursor without losing or repeating a trace, ties included', async () => {
    const everything = await ids('');
    for (const limit of [1, 2, 3]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: TraceListPage = await list(`?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
        assert.ok(page.traces.length <= limit);
        seen.push(...page.traces.map((t) => t.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== null && pages < 20);
      assert.deepEqual(seen, everything, `limit ${limit}`);
      assert.equal(pages, Math.ceil(everything.length / limit));
    }
    // The cursor is a position, so it combines with filters.
    const first = await list('?agent=airline&limit=2');
    assert.deepEqual(
      first.traces.map((t) => t.id),
      [otlpTrace.id, 'a5'],
    );
    assert.deepEqual(await ids(`?agent=airline&promptVersion=2&cursor=${first.nextCursor}`), [
      'a4',
      'a3',
      'a2',
    ]);
  });

  it('answers a bad query with a 400 that says what to send', async () => {
    const cases: [string, RegExp][] = [
      ['?limit=0', /limit must be a whole number from 1 to 200, e\.g\. 50/],
      ['?limit=1000', /limit must be a whole number from 1 to 200/],
      ['?status=broken', /status must be one of ok, error/],
      ['?feedback=-1', /feedback must be one of positive, negative, neutral, none/],
      ['?from=yesterday', /from must be an ISO 8601 time with a zone/],
      ['?from=2026-03-02&to=2026-03-01', /from .* must be before to/],
      ['?promptVersion=two', /promptVersion must be a whole number/],
      ['?cursor=garbage', /cursor is not one this API handed out/],
      ['?agnet=airline', /Unknown parameter "agnet"; the trace list takes agent, from, to/],
      ['?status=ok&status=error', /Give each parameter once; status came more than once/],
    ];
    for (const [query, message] of cases) {
      const res = await get(query);
      assert.equal(res.status, 400, query);
      assert.match(((await res.json()) as { error: string }).error, message, query);
    }
  });

  it('shows one trace: span tree with timings, events and links, transcript, scores, annotations, lineage', async () => {
    const res = await fetch(`${api.url}/api/traces/a2`, { headers: viewer });
    assert.equal(res.status, 200, await res.clone().text());
    const d = (await res.json()) as TraceDetail;
    assert.equal(d.trace.status, 'error');
    assert.deepEqual(d.trace.feedback, { score: -1, text: 'it cancelled the wrong booking' });

    assert.equal(d.spans.spanCount, 3);
    assert.equal(d.spans.durationMs, 900);
    const [root] = d.spans.roots;
    assert.equal(root?.spanId, 'root');
    assert.deepEqual(
      root.children.map((c) => [c.spanId, c.offsetMs, c.durationMs, c.depth]),
      [
        ['llm-1', 5, 400, 1],
        ['tool-1', 410, 20, 1],
      ],
    );
    const tool = root.children[1]!;
    assert.equal(tool.status, 'error');
    assert.equal(tool.events?.[0]?.name, 'exception');
    assert.equal(tool.events?.[0]?.attributes['exception.type'], 'KeyError');
    assert.deepEqual(
      tool.links?.map((l) => [l.traceId, l.spanId]),
      [['booking-batch', 'nightly-1']],
    );

    assert.deepEqual(
      d.transcript.messages.map((m) => [m.role, m.content]),
      [
        ['system', 'You are an airline agent.'],
        ['user', 'Cancel reservation ZX9 please, then mail [EMAIL]'],
      ],
    );
    assert.deepEqual(d.transcript.output, {
      action: 'get_reservation',
      arguments: { reservation_id: 'ZX9' },
    });
    assert.deepEqual(d.redactions, { email: 1 });

    assert.deepEqual(
      d.scores.map((s) => [s.source, s.dimension, s.label]),
      [
        ['judge', 'task_completion', 'fail'],
        ['code', 'format', 'pass'],
      ],
    );
    assert.equal(d.annotations.length, 1);
    assert.equal(d.annotations[0]!.judgeLabel, 'fail');
    assert.deepEqual(
      d.annotations[0]!.labels.map((l) => [l.reviewer, l.verdict, l.comment]),
      [['alice', 'fail', 'should ask which booking first']],
    );

    assert.deepEqual(d.lineage.promptVersion, { id: 'airline-v2', name: 'airline', version: 2 });
    assert.deepEqual(
      d.lineage.samples.map((s) => [s.cycleId, s.reasons]),
      [
        ['c-old', ['negative_feedback', 'errors']],
        ['c-new', ['errors']],
      ],
    );
    assert.deepEqual(
      d.lineage.clusters.map((c) => [c.stableId, c.latest]),
      [
        ['airline-fc001', false],
        ['airline-fc002', true],
      ],
    );
    assert.deepEqual(
      d.lineage.datasetExamples.map((e) => [e.exampleId, e.dataset, e.version, e.split, e.published]),
      [['ex-a2', 'airline', 1, 'train', true]],
    );
  });

  it('shows a trace sent as OTLP with its tool call and the failing tool span', async () => {
    const d = (await (
      await fetch(`${api.url}/api/traces/${otlpTrace.id}`, { headers: viewer })
    ).json()) as TraceDetail;
    assert.equal(d.trace.status, 'ok', 'a failing tool leaves the trace ok');
    const [root] = d.spans.roots;
    assert.deepEqual(
      root?.children.map((c) => [c.name, c.kind, c.status]),
      [
        ['ChatCompletion', 'llm', 'unset'],
        ['upgrade_seat', 'tool', 'error'],
      ],
    );
    assert.equal(root.children[1]!.statusMessage, 'no seats left in business');
    assert.deepEqual(
      root.children[1]!.events?.map((e) => [e.name, e.attributes['exception.type'], e.time]),
      [['exception', 'SeatMapError', at(40, 649)]],
      'OTLP span events reach the viewer',
    );
    assert.deepEqual(d.transcript.output, { action: 'upgrade_seat', arguments: { flight: 'HAT042' } });
    assert.deepEqual(d.lineage, { promptVersion: null, samples: [], clusters: [], datasetExamples: [] });
  });

  it('answers 404 with what to do for an unknown trace id', async () => {
    const res = await fetch(`${api.url}/api/traces/${encodeURIComponent('no/such:trace')}`, {
      headers: viewer,
    });
    assert.equal(res.status, 404);
    assert.match(
      ((await res.json()) as { error: string }).error,
      /No trace "no\/such:trace".*GET \/api\/traces/,
    );
  });

  it('draws a trace’s lineage graph from the prompt version that produced it to the dataset version holding it', async () => {
    const graph = (await (
      await fetch(`${api.url}/api/lineage/a2`, { headers: viewer })
    ).json()) as LineageGraph;
    assert.equal(graph.root, 'trace:a2');
    assert.ok(reaches(graph, 'prompt_version:airline-v2', 'trace:a2'), 'upstream: the prompt version');
    assert.ok(reaches(graph, 'trace:a2', 'dataset_version:dv-1'), 'downstream: the dataset version');
  });

  it('runs flywheel trace list|show and lineage against the same database', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: database.url };
    delete env.FORCE_COLOR;
    delete env.NO_COLOR;
    const flywheel = (...args: string[]) =>
      run(path.join(ROOT, 'node_modules/.bin/tsx'), ['scripts/flywheel.ts', ...args], { cwd: ROOT, env });
    const fails = async (args: string[], message: RegExp) => {
      await assert.rejects(flywheel(...args), (e: { code?: number; stderr?: string }) => {
        assert.equal(e.code, 1);
        assert.match(e.stderr ?? '', message);
        return true;
      });
    };

    const listed = await flywheel('trace', 'list', '--agent', 'airline', '--status', 'error');
    assert.doesNotMatch(listed.stdout, new RegExp(String.fromCharCode(27)), 'no escape codes into a pipe');
    assert.match(
      listed.stdout,
      /airline {2}✗ ERROR {2}failure {2}feedback -1 {2}airline v2 {2}(.+ {2})?a2\n/,
    );
    assert.match(listed.stdout, /user: "Cancel reservation ZX9 please, then mail \[EMAIL\]"/);

    const paged = await flywheel('trace', 'list', '--limit', '2');
    assert.match(paged.stdout, /next page: flywheel trace list --limit 2 --cursor [\w-]+\n$/);

    const shown = (await flywheel('trace', 'show', 'a2')).stdout;
    for (const expected of [
      /^trace a2 {2}agent airline, prompt airline v2/m,
      /^ {2}user {6}Cancel reservation ZX9 please, then mail \[EMAIL\]$/m,
      /├─ llm chat gpt-4o$/m,
      /│ +→ get_reservation \{"reservation_id":"ZX9"\}$/m,
      /└─ tool get_reservation ✗ ERROR$/m,
      /✗ KeyError: 'ZX9' {2}at \+429 ms$/m,
      /^ +Traceback \(most recent call last\):$/m,
      /↗ link to trace booking-batch span nightly-1/,
      /task_completion +fail 0\.00/,
      /alice: fail \[planning\] "should ask which booking first"/,
      /clustered into airline-fc002 "Missing reservation not handled" planning in c-new {2}← latest/,
      /in dataset airline v1 \(train\) as ex-a2/,
    ])
      assert.match(shown, expected);

    const lineage = (await flywheel('lineage', 'a2')).stdout;
    assert.match(lineage, /produced by: prompt_version airline-v2/);
    assert.match(lineage, /in version: dataset_version dv-1/);

    await fails(['trace', 'show', 'nope'], /flywheel: No trace "nope"/);
    await fails(['trace', 'list', '--limit', '0'], /limit must be a whole number from 1 to 200/);
  });
});
