import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeTraceCursor,
  encodeTraceCursor,
  parseTraceListQuery,
  TRACE_LIST_DEFAULT_LIMIT,
} from '../../schemas/trace-list-query.js';
import { Span, type SpanInput } from '../../schemas/trace.js';
import { UserError } from '../../schemas/user-error.js';
import { buildSpanTree, flattenSpanTree } from '../../traces/span-tree.js';
import { terminalStyle } from '../../traces/terminal-style.js';
import { renderTraceDetail } from '../../traces/trace-detail-render.js';
import { renderTraceList } from '../../traces/trace-list-render.js';
import type { TraceDetail, TraceListPage } from '../../traces/trace-view.js';
import { cliInstant, nextPageCommand } from '../../scripts/trace-viewer-commands.js';

const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[\\d+m`);

/** A span starting `startUs` microseconds after 12:00:00 and lasting `durUs`. */
function span(
  id: string,
  parent: string | null,
  startUs: number,
  durUs: number,
  extra: Partial<SpanInput> = {},
) {
  const iso = (us: number) => `2026-03-02T12:00:00.${String(us).padStart(6, '0')}Z`;
  return Span.parse({
    spanId: id,
    parentSpanId: parent,
    name: id,
    startTime: iso(startUs),
    endTime: iso(startUs + durUs),
    latencyMs: durUs / 1000,
    ...extra,
  });
}

function rejects(params: Record<string, string>, pattern: RegExp) {
  assert.throws(
    () => parseTraceListQuery(new URLSearchParams(params)),
    (e: unknown) => e instanceof UserError && e.status === 400 && pattern.test(e.message),
  );
}

describe('trace list query', () => {
  it('parses every filter and defaults the limit', () => {
    const cursor = encodeTraceCursor({ t: '2026-03-02T12:00:00.123456Z', i: 'trace-9' });
    const f = parseTraceListQuery(
      new URLSearchParams({
        agent: 'demo',
        from: '2026-03-01',
        to: '2026-03-02T10:00:00+02:00',
        status: 'error',
        feedback: 'negative',
        cluster: 'demo-fc001',
        promptVersion: '3',
        q: '  refund ',
        cursor,
      }),
    );
    assert.deepEqual(f, {
      agent: 'demo',
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-02T08:00:00.000Z',
      status: 'error',
      feedback: 'negative',
      cluster: 'demo-fc001',
      promptVersion: 3,
      text: 'refund',
      after: { t: '2026-03-02T12:00:00.123456Z', i: 'trace-9' },
      limit: TRACE_LIST_DEFAULT_LIMIT,
    });
    assert.deepEqual(parseTraceListQuery({ limit: '200', agent: undefined }), { limit: 200 });
  });

  it('refuses bad parameters with a message that says what to send', () => {
    rejects({ limit: '0' }, /limit must be a whole number from 1 to 200, e\.g\. 50/);
    rejects({ limit: '201' }, /limit must be a whole number from 1 to 200/);
    rejects({ limit: 'ten' }, /limit must be a whole number/);
    rejects({ status: 'failed' }, /status must be one of ok, error/);
    rejects({ feedback: 'bad' }, /feedback must be one of positive, negative, neutral, none/);
    rejects({ from: 'yesterday' }, /from must be an ISO 8601 time with a zone, e\.g\. 2026-03-01T09:00:00Z/);
    rejects({ to: '2026-03-01T09:00:00' }, /to must be an ISO 8601 time with a zone/);
    rejects({ from: '2026-03-02', to: '2026-03-01' }, /from \(2026-03-02T00:00:00\.000Z\) must be before to/);
    rejects({ promptVersion: '-1' }, /promptVersion must be a whole number/);
    rejects({ q: '   ' }, /q must not be empty/);
    rejects(
      { cursor: 'abc' },
      /cursor is not one this API handed out: pass the previous page’s nextCursor unchanged/,
    );
    rejects({ agnet: 'demo' }, /Unknown parameter "agnet"; the trace list takes agent, from, to/);
    assert.throws(
      () => parseTraceListQuery(new URLSearchParams('status=ok&status=error')),
      /Give each parameter once; status came more than once/,
    );
    // Every problem is named at once, not only the first.
    rejects(
      { limit: '0', status: 'x' },
      /status must be one of.*; limit must be|limit must be.*; status must be/,
    );
  });

  it('hands out cursors that decode to the same position and refuses tampered ones', () => {
    const c = { t: '2026-03-02T12:00:00.000001Z', i: 'tau-bench:a:1:0' };
    assert.deepEqual(decodeTraceCursor(encodeTraceCursor(c)), c);
    assert.equal(decodeTraceCursor(encodeTraceCursor(c).slice(0, -3)), undefined);
    assert.equal(decodeTraceCursor(Buffer.from('{"t":"now","i":"x"}').toString('base64url')), undefined);
    assert.equal(decodeTraceCursor('not base64!'), undefined);
  });
});

describe('span tree', () => {
  it('nests children under parents with offsets and durations exact below the millisecond', () => {
    const tree = buildSpanTree([
      span('tool', 'llm', 1500, 250),
      span('root', null, 0, 3000),
      span('llm', 'root', 1000, 1000),
    ]);
    assert.equal(tree.spanCount, 3);
    assert.equal(tree.durationMs, 3);
    assert.equal(tree.startTime, '2026-03-02T12:00:00.000000Z');
    const root = tree.roots[0]!;
    assert.equal(root.spanId, 'root');
    const llm = root.children[0]!;
    const tool = llm.children[0]!;
    assert.deepEqual([llm.spanId, llm.offsetMs, llm.durationMs, llm.depth], ['llm', 1, 1, 1]);
    assert.deepEqual([tool.spanId, tool.offsetMs, tool.durationMs, tool.depth], ['tool', 1.5, 0.25, 2]);
  });

  it('orders siblings that start within one millisecond by their exact start', () => {
    const tree = buildSpanTree([
      span('root', null, 0, 5000),
      span('second', 'root', 400, 10),
      span('first', 'root', 300, 10),
      span('third', 'root', 900, 10),
    ]);
    assert.deepEqual(
      flattenSpanTree(tree.roots).map((n) => n.spanId),
      ['root', 'first', 'second', 'third'],
    );
  });

  it('shows a span whose parent is missing, and a parent loop, as roots instead of hiding them', () => {
    const tree = buildSpanTree([
      span('root', null, 0, 100),
      span('late-child', 'not-arrived', 50, 10),
      span('a', 'b', 10, 5),
      span('b', 'a', 20, 5),
    ]);
    assert.deepEqual(
      tree.roots.map((r) => [r.spanId, r.orphan ?? false]),
      [
        ['root', false],
        ['late-child', true],
        ['a', true],
      ],
    );
    assert.equal(tree.roots[2]!.children[0]!.spanId, 'b', 'the loop is shown once, from its earliest span');
    assert.equal(flattenSpanTree(tree.roots).length, 4, 'every span appears exactly once');
  });

  it('is empty for a trace sent as one record', () => {
    assert.deepEqual(buildSpanTree([]), { roots: [], durationMs: 0, spanCount: 0 });
  });
});

function detail(): TraceDetail {
  const spans = [
    span('agent', null, 0, 900_000, { kind: 'agent', name: 'run' }),
    span('llm', 'agent', 1000, 400_000, {
      kind: 'llm',
      name: 'chat',
      model: 'gpt-4o',
      usage: { inputTokens: 1200, outputTokens: 40 },
      outputMessages: [
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', name: 'get_reservation', arguments: { reservation_id: 'ABC123' } }],
        },
      ],
    }),
    span('tool', 'agent', 402_000, 30_000, {
      kind: 'tool',
      name: 'get_reservation',
      status: 'error',
      statusMessage: 'reservation not found',
      tool: {
        name: 'get_reservation',
        arguments: { reservation_id: 'ABC123' },
        result: '{"error":"not found"}',
      },
      events: [
        {
          name: 'exception',
          time: '2026-03-02T12:00:00.431000Z',
          attributes: {
            'exception.type': 'KeyError',
            'exception.message': 'ABC123',
            'exception.stacktrace':
              'Traceback (most recent call last):\n  File "tools.py", line 12, in get\n    return db[key]\n  File "db.py", line 3\nKeyError: ABC123',
          },
        },
      ],
      links: [{ traceId: 'other-trace', spanId: 'batch-1', attributes: {} }],
    }),
  ];
  return {
    trace: {
      id: 't-1',
      agent: 'demo',
      timestamp: '2026-03-02T12:00:00.000Z',
      status: 'error',
      outcome: 'failure',
      feedback: { score: -1, text: 'wrong booking' },
      promptVersion: 2,
      latencyMs: 900,
      attributes: {},
    },
    transcript: {
      messages: [
        { role: 'system', content: 'You are an airline agent.' },
        { role: 'user', content: 'Where is my booking ABC123?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c0', name: 'find_user', arguments: { q: 'me' } }],
        },
        { role: 'tool', name: 'find_user', tool_call_id: 'c0', content: '{"user":"u1"}\nsecond line' },
        { role: 'assistant', sourceRole: 'tool-call', content: 'print(find("ABC123"))' },
        { role: 'user', sourceRole: '', content: 'Observation: found' },
      ],
      output: { action: 'get_reservation', arguments: { reservation_id: 'ABC123' } },
    },
    spans: buildSpanTree(spans),
    scores: [
      {
        cycleId: 'cycle-1',
        evaluator: 'judge:task_completion',
        dimension: 'task_completion',
        source: 'judge',
        value: 0,
        label: 'fail',
        category: 'tool_selection',
        explanation: 'looked up the wrong record',
        confidence: 0.9,
        rubricVersion: 1,
        createdAt: '2026-03-03T00:00:00.000Z',
      },
    ],
    annotations: [],
    lineage: {
      promptVersion: { id: 'demo-v2', name: 'demo', version: 2 },
      samples: [
        {
          cycleId: 'cycle-1',
          reasons: ['negative_feedback'],
          cycleStartedAt: '',
          stage: 'done',
          outcome: 'released',
        },
      ],
      clusters: [],
      datasetExamples: [
        {
          exampleId: 'ex-1',
          datasetVersionId: 'dv-3',
          dataset: 'demo',
          version: 3,
          split: 'train',
          slices: [],
          published: true,
        },
      ],
    },
    redactions: { email: 1 },
  };
}

describe('terminal rendering', () => {
  it('draws the span tree with timings, tool calls, tool results, errors, exception events and links', () => {
    const text = renderTraceDetail(detail(), terminalStyle(false), { full: false });
    assert.doesNotMatch(text, ANSI, 'no escape codes without color');
    const lines = text.split('\n');
    const at = (needle: string) => {
      const line = lines.find((l) => l.includes(needle));
      assert.ok(line, `a line with ${needle}`);
      return line;
    };
    assert.match(at('agent run'), /\+0 µs\s+900 ms {2}agent run$/);
    assert.match(at('├─ llm chat'), /\+1\.0 ms\s+400 ms {2}├─ llm chat gpt-4o$/);
    assert.match(at('└─ tool get_reservation'), /\+402 ms\s+30\.0 ms {2}└─ tool get_reservation ✗ ERROR$/);
    assert.match(at('│     → get_reservation'), /│ +→ get_reservation \{"reservation_id":"ABC123"\}$/);
    assert.match(at('tokens in'), /tokens in 1200 \/ out 40/);
    assert.match(at('✗ ERROR: reservation not found'), /^\s+✗ ERROR: reservation not found$/);
    assert.match(at('args {'), /args \{"reservation_id":"ABC123"\}/);
    assert.match(at('result {'), /result \{"error":"not found"\}/);
    assert.match(at('✗ KeyError'), /✗ KeyError: ABC123 {2}at \+431 ms$/);
    const stack = lines.findIndex((l) => l.includes('✗ KeyError'));
    assert.deepEqual(
      lines.slice(stack + 1, stack + 5).map((l) => l.trim()),
      [
        'Traceback (most recent call last):',
        'File "tools.py", line 12, in get',
        'return db[key]',
        '… 2 more stack line(s)',
      ],
    );
    assert.match(at('↗ link'), /↗ link to trace other-trace span batch-1/);
    // The waterfall puts the tool call after the model call.
    assert.match(at('└─ tool'), /^\[ {8}█ {11}\]/);
    assert.match(at('├─ llm'), /^\[█{9} {11}\]/);
  });

  it('prints the transcript, scores and lineage, and whole stack traces with full', () => {
    const text = renderTraceDetail(detail(), terminalStyle(false), { full: true });
    assert.match(
      text,
      /^ {2}system {4}You are an airline agent\.\n {2}user {6}Where is my booking ABC123\?$/m,
    );
    assert.match(
      text,
      /^ {2}assistant → find_user \{"q":"me"\} \(call c0\)$/m,
      'a call-only message is one line',
    );
    assert.match(text, /^ {2}tool {6}find_user \(call c0\) \{"user":"u1"\}\n {12}second line$/m);
    assert.match(
      text,
      /^ {2}assistant {1}\[tool-call\] print\(find\("ABC123"\)\)\n {2}user {6}\[no role\] Observation: found$/m,
      "a framework's own role is shown beside the one it maps to",
    );
    assert.match(text, /⇒ output {2}→ get_reservation \{"reservation_id":"ABC123"\}/);
    assert.match(text, /feedback -1 "wrong booking"/);
    assert.match(
      text,
      /task_completion +fail 0\.00 {2}judge judge:task_completion, cycle-1 {2}\[tool_selection\]/,
    );
    assert.match(text, /produced by prompt demo v2 \(demo-v2\)/);
    assert.match(text, /sampled by cycle-1 \(negative_feedback\)/);
    assert.match(text, /in dataset demo v3 \(train\) as ex-1/);
    assert.match(text, /PII redacted in this view: 1 email/);
    assert.match(text, /KeyError: ABC123\n/, 'the last stack line is shown with full');
    assert.doesNotMatch(text, /more stack line/);
  });

  it('marks errors in red on a terminal and with the plain marker elsewhere', () => {
    const page: TraceListPage = {
      traces: [
        {
          id: 't-1',
          agent: 'demo',
          timestamp: '2026-03-02T12:00:00.000Z',
          status: 'error',
          feedback: { score: -1 },
          input: 'Where is my booking?',
          output: { action: 'get_reservation', preview: 'get_reservation({"id":"A"})' },
        },
        {
          id: 't-2',
          agent: 'demo',
          timestamp: '2026-03-02T11:00:00.000Z',
          status: 'ok',
          input: 'hi',
          output: { action: 'respond', preview: 'Hello!' },
        },
      ],
      nextCursor: 'CUR',
    };
    const plain = renderTraceList(page, terminalStyle(false), (c) => `flywheel trace list --cursor ${c}`);
    assert.doesNotMatch(plain, ANSI);
    assert.match(plain, /^2026-03-02 12:00:00Z {2}demo {2}✗ ERROR {2}feedback -1 {2}t-1$/m);
    assert.match(plain, /^ {4}user: "Where is my booking\?" {2}→ get_reservation\(\{"id":"A"\}\)$/m);
    assert.match(plain, /^2026-03-02 11:00:00Z {2}demo {2}ok {2}t-2\n {4}user: "hi" {2}"Hello!"$/m);
    assert.match(
      plain,
      /2 trace\(s\), 1 with errors, newest first; more are older\nnext page: flywheel trace list --cursor CUR$/,
    );
    const colored = renderTraceList(page, terminalStyle(true));
    assert.match(colored, ANSI);
    assert.ok(
      colored.includes(`${ESC}[31m${ESC}[1m✗ ERROR${ESC}[22m${ESC}[39m`),
      'the marker is bold red on a terminal',
    );
    assert.doesNotMatch(colored, /next page/, 'no command to print without a way to build it');
    assert.equal(renderTraceList({ traces: [], nextCursor: null }, terminalStyle(false)), 'no traces match');
  });
});

describe('trace list command line', () => {
  it('reads 30m, 24h and 7d as that long ago and passes other times to the API unchanged', () => {
    const now = new Date('2026-03-08T12:00:00.000Z');
    assert.equal(cliInstant('24h', now), '2026-03-07T12:00:00.000Z');
    assert.equal(cliInstant('7d', now), '2026-03-01T12:00:00.000Z');
    assert.equal(cliInstant('30m', now), '2026-03-08T11:30:00.000Z');
    assert.equal(cliInstant('2026-03-01', now), '2026-03-01');
    assert.equal(cliInstant(undefined, now), undefined);
  });

  it('builds the next page command from the same arguments with the new cursor', () => {
    assert.equal(
      nextPageCommand(
        ['trace', 'list', '--agent', 'demo', '--cursor', 'OLD', '--search', "it's late"],
        'NEW',
      ),
      `flywheel trace list --agent demo --search 'it'\\''s late' --cursor NEW`,
    );
    assert.equal(
      nextPageCommand(['trace', 'list', '--cursor=OLD'], 'NEW'),
      'flywheel trace list --cursor NEW',
    );
  });
});
