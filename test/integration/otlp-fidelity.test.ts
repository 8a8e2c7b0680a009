import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import * as grpc from '@grpc/grpc-js';
import { OTLP_GRPC_SERVICES, startOtlpGrpcServer } from '../../api/otlp-grpc-server.js';
import { sql } from 'kysely';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import {
  decodeExportResponse,
  decodeLogsExportResponse,
  decodeRpcStatus,
  encodeOtlpLogsProtobuf,
  encodeOtlpProtobuf,
} from '../../traces/otlp-protobuf.js';
import { traceToOtlp } from '../../traces/otlp-export.js';
import { flattenOtlpRequest } from '../../traces/otlp-mapping.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import type { Db } from '../../db/connection.js';
import { readTrace } from '../../traces/store/trace-reader.js';
import { startTestDatabase } from '../helpers/test-stack.js';

/** Nanoseconds after a fixed recent instant, as OTLP's decimal string. */
const BASE_NS = BigInt(Date.now() - 3_600_000) * 1_000_000n;
const at = (ns: number) => (BASE_NS + BigInt(ns)).toString();
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

let traceCounter = 0;
const newTraceId = () => `${(0xabc000 + traceCounter++).toString(16).padStart(8, '0')}${'1'.repeat(24)}`;

/**
 * An agent run whose tool call starts in the same nanosecond as its parent, with an
 * exception event carrying a stack trace, a custom event, a link and a scope: everything
 * a millisecond-cut ingest lost.
 */
function richRequest(traceId: string, { malformedEvent = false } = {}) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'fidelity')] },
        scopeSpans: [
          {
            scope: { name: 'openinference.instrumentation.smolagents', version: '0.1.14' },
            spans: [
              {
                traceId,
                spanId: 'b000000000000003',
                parentSpanId: 'd000000000000001',
                name: 'lookup_order',
                kind: 1,
                startTimeUnixNano: at(1_000_100),
                endTimeUnixNano: at(1_250_350),
                attributes: [str('openinference.span.kind', 'TOOL'), str('tool.name', 'lookup_order')],
                events: [
                  {
                    timeUnixNano: at(1_200_007),
                    name: 'exception',
                    attributes: [
                      str('exception.type', 'KeyError'),
                      str('exception.message', "'A17'"),
                      str(
                        'exception.stacktrace',
                        'Traceback (most recent call last):\n  File "tools.py", line 9',
                      ),
                    ],
                  },
                  { timeUnixNano: at(1_100_000), name: 'cache.miss', attributes: [str('key', 'A17')] },
                  // Only JSON can carry an event this malformed; protobuf would coerce it.
                  ...(malformedEvent ? [{ name: 7 }] : []),
                ],
                status: { code: 2 },
              },
              {
                traceId,
                spanId: 'b000000000000002',
                parentSpanId: 'd000000000000001',
                name: 'reply',
                kind: 3,
                startTimeUnixNano: at(1_000_400),
                endTimeUnixNano: at(1_300_000),
                attributes: [str('openinference.span.kind', 'LLM')],
                links: [
                  {
                    traceId: 'f'.repeat(32),
                    spanId: 'e'.repeat(16),
                    traceState: 'vendor=1',
                    attributes: [str('link.kind', 'handoff')],
                  },
                ],
                droppedAttributesCount: 2,
              },
            ],
          },
          {
            scope: { name: 'manual' },
            spans: [
              {
                traceId,
                spanId: 'd000000000000001',
                name: 'agent run',
                kind: 2,
                traceState: 'rojo=00f067aa0ba902b7',
                startTimeUnixNano: at(1_000_100),
                endTimeUnixNano: at(2_000_000),
                attributes: [
                  str('openinference.span.kind', 'AGENT'),
                  str('input.value', 'Where is order A17?'),
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('OTLP ingest keeps every span field, answers per the spec, and survives bad bodies', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let api: ApiServer;
  let token: string;
  let db: Db;

  const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body,
    });

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    await db.insertInto('agents').values({ id: 'fidelity', config: '{}' }).execute();
    token = (await createAgentToken(db, { agent: 'fidelity', scopes: ['ingest'], createdBy: 'test' })).token;
    api = await startApiServer(apiDeps(db, new Client()), 0);
  });
  after(async () => {
    await api?.close();
    await database?.teardown();
  });

  for (const encoding of ['json', 'protobuf'] as const) {
    it(`keeps events, links, scope, OTel kind and nanosecond times, parent first (${encoding})`, async () => {
      const traceId = newTraceId();
      const request = richRequest(traceId, { malformedEvent: encoding === 'json' });
      const res =
        encoding === 'json'
          ? await post('/v1/traces', JSON.stringify(request))
          : await post('/v1/traces', encodeOtlpProtobuf(request), {
              'content-type': 'application/x-protobuf',
            });
      assert.equal(res.status, 200);
      const trace = await readTrace(db, traceId);
      assert.ok(trace);
      // All three start within one millisecond: by the nanosecond, the parent before the
      // child that starts with it, whatever their ids say.
      assert.deepEqual(
        trace.spans.map((s) => s.spanId),
        ['d000000000000001', 'b000000000000003', 'b000000000000002'],
      );
      const [root, tool, llm] = trace.spans;
      const iso = (ns: number) => {
        const total = BASE_NS + BigInt(ns);
        const ms = new Date(Number(total / 1_000_000n)).toISOString();
        const rest = (total % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
        return rest === '' ? ms : `${ms.slice(0, -1)}${rest}Z`;
      };
      assert.equal(root!.startTime, iso(1_000_100));
      assert.equal(tool!.endTime, iso(1_250_350));
      assert.equal(root!.otelKind, 'server');
      assert.equal(tool!.otelKind, 'internal');
      assert.equal(llm!.otelKind, 'client');
      assert.equal(root!.traceState, 'rojo=00f067aa0ba902b7');
      assert.deepEqual(root!.scope, { name: 'manual' });
      assert.deepEqual(tool!.scope, { name: 'openinference.instrumentation.smolagents', version: '0.1.14' });
      assert.deepEqual(tool!.events, [
        {
          name: 'exception',
          time: iso(1_200_007),
          attributes: {
            'exception.type': 'KeyError',
            'exception.message': "'A17'",
            'exception.stacktrace': 'Traceback (most recent call last):\n  File "tools.py", line 9',
          },
        },
        { name: 'cache.miss', time: iso(1_100_000), attributes: { key: 'A17' } },
      ]);
      assert.equal(
        tool!.statusMessage,
        "'A17'",
        'an error span without a message takes the exception message',
      );
      if (encoding === 'json') {
        // The malformed event costs only itself, and says so; protobuf cannot carry one.
        assert.deepEqual(tool!.dropped, { events: 1 });
      }
      assert.deepEqual(llm!.links, [
        {
          traceId: 'f'.repeat(32),
          spanId: 'e'.repeat(16),
          traceState: 'vendor=1',
          attributes: { 'link.kind': 'handoff' },
        },
      ]);
      assert.deepEqual(llm!.dropped, { attributes: 2 });

      // Exported and read back, the spans are the same: nothing is lost on the way out either.
      const again = flattenOtlpRequest(traceToOtlp(trace, { convention: 'openinference' }));
      assert.deepEqual(again.errors, []);
      assert.deepEqual(
        again.spans.map((f) => f.span),
        trace.spans.map((s) => ({ ...s })),
      );
    });
  }

  it('answers partial success with 200 in the request encoding, and errors as google.rpc.Status', async () => {
    const traceId = newTraceId();
    const request = richRequest(traceId);
    const spans = request.resourceSpans[0]!.scopeSpans[0]!.spans as Record<string, unknown>[];
    spans.push({ ...spans[0], spanId: 'c000000000000004', startTimeUnixNano: at(-1) + 'x' });
    const proto = await post('/v1/traces', encodeOtlpProtobuf(richRequest(newTraceId())), {
      'content-type': 'application/x-protobuf',
    });
    assert.equal(proto.headers.get('content-type'), 'application/x-protobuf');
    assert.equal(decodeExportResponse(new Uint8Array(await proto.arrayBuffer())), undefined);

    const json = await post('/v1/traces', JSON.stringify(request));
    assert.equal(json.status, 200);
    const body = (await json.json()) as { partialSuccess: { rejectedSpans: number; errorMessage: string } };
    assert.equal(body.partialSuccess.rejectedSpans, 1);
    assert.match(body.partialSuccess.errorMessage, /spans\[2\]: startTimeUnixNano/);
    assert.equal((await readTrace(db, traceId))?.spans.length, 3);

    // A protobuf span with a millisecond timestamp: rejected by partial success, in protobuf.
    const msRequest = richRequest(newTraceId());
    const msSpan = msRequest.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    msSpan.startTimeUnixNano = String(Date.now() - 1000);
    msSpan.endTimeUnixNano = String(Date.now());
    const partial = await post('/v1/traces', encodeOtlpProtobuf(msRequest), {
      'content-type': 'application/x-protobuf',
    });
    assert.equal(partial.status, 200);
    const answer = decodeExportResponse(new Uint8Array(await partial.arrayBuffer()));
    assert.equal(answer?.rejectedSpans, 1);
    assert.match(answer?.errorMessage ?? '', /looks like milliseconds.*multiply by 1,000,000/);

    const garbage = await post('/v1/traces', new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 1]), {
      'content-type': 'application/x-protobuf',
    });
    assert.equal(garbage.status, 400);
    assert.equal(garbage.headers.get('content-type'), 'application/x-protobuf');
    const status = decodeRpcStatus(new Uint8Array(await garbage.arrayBuffer()));
    assert.equal(status.code, 400);
    assert.match(status.message, /not an OTLP ExportTraceServiceRequest protobuf/);
  });

  it('GenAI log events (POST /v1/logs) join their span, before or after it arrives, in JSON or protobuf', async () => {
    const logsFor = (traceId: string, spanId: string) => ({
      resourceLogs: [
        {
          resource: { attributes: [str('service.name', 'fidelity')] },
          scopeLogs: [
            {
              scope: { name: 'opentelemetry.instrumentation.openai_v2' },
              logRecords: [
                {
                  timeUnixNano: at(1_000_200),
                  eventName: 'gen_ai.system.message',
                  attributes: [str('gen_ai.system', 'openai')],
                  body: { kvlistValue: { values: [str('content', 'You are a support agent.')] } },
                  traceId,
                  spanId,
                },
                {
                  timeUnixNano: at(1_000_300),
                  attributes: [str('event.name', 'gen_ai.user.message'), str('gen_ai.system', 'openai')],
                  body: { kvlistValue: { values: [str('content', 'Where is order A17?')] } },
                  traceId,
                  spanId,
                },
                {
                  timeUnixNano: at(1_900_000),
                  eventName: 'gen_ai.choice',
                  attributes: [str('gen_ai.system', 'openai')],
                  body: {
                    kvlistValue: {
                      values: [
                        { key: 'index', value: { intValue: '0' } },
                        str('finish_reason', 'stop'),
                        {
                          key: 'message',
                          value: {
                            kvlistValue: {
                              values: [str('role', 'assistant'), str('content', 'It ships today.')],
                            },
                          },
                        },
                      ],
                    },
                  },
                  traceId,
                  spanId,
                },
                {
                  timeUnixNano: at(1_900_001),
                  eventName: 'gen_ai.user.message',
                  body: { stringValue: 'orphan' },
                },
              ],
            },
          ],
        },
      ],
    });
    const llmSpan = (traceId: string) => ({
      resourceSpans: [
        {
          resource: { attributes: [str('service.name', 'fidelity')] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId,
                  spanId: 'c100000000000001',
                  name: 'chat gpt-4o',
                  kind: 3,
                  startTimeUnixNano: at(1_000_000),
                  endTimeUnixNano: at(2_000_000),
                  attributes: [str('gen_ai.operation.name', 'chat'), str('gen_ai.request.model', 'gpt-4o')],
                },
              ],
            },
          ],
        },
      ],
    });
    const conversation = async (traceId: string) => {
      const trace = await readTrace(db, traceId);
      const span = trace?.spans[0];
      return {
        events: span?.events?.map((e) => e.name),
        input: trace?.input.messages.map((m) => `${m.role}: ${m.content}`),
        output: trace?.output,
      };
    };
    const expected = {
      events: ['gen_ai.system.message', 'gen_ai.user.message', 'gen_ai.choice'],
      input: ['system: You are a support agent.', 'user: Where is order A17?'],
      output: { action: 'respond', arguments: {}, content: 'It ships today.' },
    };

    // Span first, then its logs.
    const first = newTraceId();
    assert.equal((await post('/v1/traces', JSON.stringify(llmSpan(first)))).status, 200);
    const logs = await post('/v1/logs', JSON.stringify(logsFor(first, 'c100000000000001')));
    assert.equal(logs.status, 200);
    const answer = (await logs.json()) as {
      acceptedLogRecords: number;
      attachedToSpans: number;
      partialSuccess: { rejectedLogRecords: number; errorMessage: string };
    };
    assert.equal(answer.acceptedLogRecords, 3);
    assert.equal(answer.attachedToSpans, 3);
    assert.equal(answer.partialSuccess.rejectedLogRecords, 1, 'the record without a span is refused');
    assert.match(
      answer.partialSuccess.errorMessage,
      /logRecords\[3\]: a log record joins its span by traceId/,
    );
    assert.deepEqual(await conversation(first), expected);
    // Sent again, nothing is added twice.
    await post('/v1/logs', JSON.stringify(logsFor(first, 'c100000000000001')));
    assert.deepEqual(await conversation(first), expected);

    // Logs first (in protobuf), then the span: the events wait and join it on arrival.
    const second = newTraceId();
    const early = await post('/v1/logs', encodeOtlpLogsProtobuf(logsFor(second, 'c100000000000001')), {
      'content-type': 'application/x-protobuf',
    });
    assert.equal(early.status, 200);
    assert.equal(decodeLogsExportResponse(new Uint8Array(await early.arrayBuffer()))?.rejectedLogRecords, 1);
    assert.equal(await readTrace(db, second), undefined);
    assert.equal((await post('/v1/traces', JSON.stringify(llmSpan(second)))).status, 200);
    assert.deepEqual(await conversation(second), expected);
    const waiting = await db
      .selectFrom('pending_span_events')
      .select('id')
      .where('trace_id', '=', second)
      .execute();
    assert.equal(waiting.length, 0, 'attached events leave the waiting room');
  });

  it('OTLP over gRPC: the same ingest, partial success, and the status codes exporters act on', async () => {
    const grpcServer = await startOtlpGrpcServer(apiDeps(db, new Client()), 0);
    const Traces = grpc.makeGenericClientConstructor(OTLP_GRPC_SERVICES.traces, 'TraceService');
    const client = new Traces(grpcServer.address, grpc.credentials.createInsecure()) as unknown as {
      Export(
        body: Buffer,
        metadata: grpc.Metadata,
        done: (error: grpc.ServiceError | null, answer?: Buffer) => void,
      ): void;
      close(): void;
    };
    const exportWith = (body: Uint8Array, bearer?: string) =>
      new Promise<{ error: grpc.ServiceError | null; answer?: Buffer }>((resolve) => {
        const metadata = new grpc.Metadata();
        if (bearer) metadata.set('authorization', `Bearer ${bearer}`);
        client.Export(Buffer.from(body), metadata, (error, answer) => resolve({ error, answer }));
      });
    try {
      const traceId = newTraceId();
      const request = richRequest(traceId);
      const spans = request.resourceSpans[0]!.scopeSpans[0]!.spans as Record<string, unknown>[];
      spans.push({ ...spans[0], spanId: 'c000000000000009', startTimeUnixNano: '1700000000123' });
      const ok = await exportWith(encodeOtlpProtobuf(request), token);
      assert.equal(ok.error, null);
      const partial = decodeExportResponse(new Uint8Array(ok.answer!));
      assert.equal(partial?.rejectedSpans, 1);
      assert.match(partial?.errorMessage ?? '', /looks like milliseconds/);
      assert.equal((await readTrace(db, traceId))?.spans.length, 3);

      const anonymous = await exportWith(encodeOtlpProtobuf(richRequest(newTraceId())));
      assert.equal(anonymous.error?.code, grpc.status.UNAUTHENTICATED);
      assert.match(anonymous.error?.details ?? '', /authorization: Bearer/);
      const garbage = await exportWith(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 1]), token);
      assert.equal(garbage.error?.code, grpc.status.INVALID_ARGUMENT);
    } finally {
      client.close();
      await grpcServer.close();
    }
  });

  it('a late trace for a day whose partition retention dropped recreates it, instead of a 500', async () => {
    // Three days back: this process creates the day's partition, then "retention" drops it.
    const threeDays = 3 * 86_400_000 * 1_000_000;
    const send = async () => {
      const traceId = newTraceId();
      const request = richRequest(traceId);
      for (const scope of request.resourceSpans[0]!.scopeSpans)
        for (const span of scope.spans as Record<string, unknown>[]) {
          span.startTimeUnixNano = (BigInt(span.startTimeUnixNano as string) - BigInt(threeDays)).toString();
          span.endTimeUnixNano = (BigInt(span.endTimeUnixNano as string) - BigInt(threeDays)).toString();
        }
      const res = await post('/v1/traces', JSON.stringify(request));
      return { status: res.status, traceId };
    };
    const first = await send();
    assert.equal(first.status, 200);
    const day = new Date(Number(BASE_NS / 1_000_000n) - 3 * 86_400_000).toISOString().slice(0, 10);
    await sql.raw(`drop table traces_${day.replaceAll('-', '')}`).execute(db);
    const late = await send();
    assert.equal(late.status, 200);
    assert.equal((await readTrace(db, late.traceId))?.spans.length, 3);
  });

  it('a lone surrogate, deep nesting, a millisecond time or a repeated span id costs only its span', async () => {
    const traceId = newTraceId();
    const request = richRequest(traceId);
    const spans = request.resourceSpans[0]!.scopeSpans[0]!.spans as Record<string, unknown>[];
    // Built as text: JSON.stringify itself overflows on a value this deep.
    const deep = `${'{"arrayValue":{"values":['.repeat(20_000)}{"stringValue":"bottom"}${']}}'.repeat(20_000)}`;
    spans.push(
      {
        ...spans[0],
        spanId: 'c000000000000001',
        name: 'bad \ud800 name',
        attributes: [str('note', 'x\udc00y')],
      },
      { ...spans[0], spanId: 'c000000000000002', attributes: [str('deep', '__DEEP__')] },
      {
        ...spans[0],
        spanId: 'c000000000000003',
        startTimeUnixNano: '1700000000',
        endTimeUnixNano: '1700000001',
      },
      { ...spans[1], name: 'a second copy' },
      // Found by fuzz:ingest: a well-formed span whose event nests too deep. The span is kept;
      // the event is dropped and counted.
      {
        ...spans[0],
        spanId: 'c000000000000004',
        events: [{ name: 'deep', attributes: [str('deep', '__DEEP__')] }],
      },
    );
    const res = await post(
      '/v1/traces',
      JSON.stringify(request).replaceAll('{"stringValue":"__DEEP__"}', deep),
    );
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      acceptedSpans: number;
      partialSuccess: { rejectedSpans: number };
      errors: { item: string; error: string }[];
    };
    assert.equal(body.acceptedSpans, 5, JSON.stringify(body.errors));
    assert.equal(body.partialSuccess.rejectedSpans, 3);
    const errors = body.errors.map((e) => e.error).join('\n');
    assert.match(errors, /nests deeper than 256 levels/);
    assert.match(errors, /looks like seconds since the epoch.*multiply by 1,000,000,000/);
    assert.match(errors, /appears more than once in the request; the first copy was kept/);
    const stored = await readTrace(db, traceId);
    assert.equal(stored?.spans.length, 5);
    assert.deepEqual(stored?.spans.find((s) => s.spanId === 'c000000000000004')?.dropped, { events: 1 });
    const odd = stored?.spans.find((s) => s.spanId === 'c000000000000001');
    assert.equal(odd?.name, 'bad \ufffd name');
    assert.equal(odd?.attributes.note, 'x\ufffdy');
    assert.equal(stored?.spans.find((s) => s.spanId === 'b000000000000002')?.name, 'reply');

    // JSONL: a line nested too deep is named; the lines beside it are stored.
    let deepJson = '1';
    for (let i = 0; i < 20_000; i++) deepJson = `[${deepJson}]`;
    const line = (id: string, extra = '') =>
      `{"id":"${id}","timestamp":"${new Date().toISOString()}","input":{"messages":[{"role":"user","content":"hi \\ud800"}]},"output":{"action":"respond","content":"ok"}${extra}}`;
    const jsonl = await post(
      '/api/traces',
      [line('deep-1'), line('deep-2', `,"attributes":{"x":${deepJson}}`)].join('\n'),
    );
    assert.equal(jsonl.status, 400);
    const report = (await jsonl.json()) as { accepted: number; rejected: { item: string; error: string }[] };
    assert.equal(report.accepted, 1);
    assert.equal(report.rejected[0]?.item, 'line 2');
    assert.match(report.rejected[0]?.error ?? '', /nests deeper than 256 levels/);
    assert.equal((await readTrace(db, 'deep-1'))?.input.messages[0]?.content, 'hi \ufffd');
  });
});
