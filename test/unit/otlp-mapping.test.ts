import path from 'node:path';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { traceToOtlp } from '../../traces/otlp-export.js';
import { recordToKeyValues } from '../../traces/otlp-json.js';
import { assembleTrace, flattenOtlpRequest } from '../../traces/otlp-mapping.js';
import { TraceRecord, type Span, type TraceRecordInput } from '../../schemas/trace.js';
import { sharedDataset } from '../../scripts/shared-datasets.js';

const fixtureDir = sharedDataset('openinference_genai_fixtures');

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(fixtureDir, name), 'utf8')) as Record<string, unknown>;
}

const TRACE = '5b8efff798038103d269b633813fc60c';

function otlpSpan(attributes: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  return {
    traceId: TRACE,
    spanId: 'eee19b7ec3c1b174',
    name: 'span',
    kind: 3,
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000001234567000',
    attributes: recordToKeyValues(attributes),
    status: { code: 1 },
    ...overrides,
  };
}

function request(scopes: unknown[][], resource: Record<string, unknown> = { 'service.name': 'weather-bot' }) {
  return {
    resourceSpans: [
      {
        resource: { attributes: recordToKeyValues(resource) },
        scopeSpans: scopes.map((spans) => ({ scope: { name: 'test' }, spans })),
      },
    ],
  };
}

function mapOne(attributes: Record<string, unknown>): Span {
  const { spans, errors } = flattenOtlpRequest(JSON.parse(JSON.stringify(request([[otlpSpan(attributes)]]))));
  assert.deepEqual(errors, []);
  assert.equal(spans.length, 1);
  return spans[0]!.span;
}

describe('OTLP mapping', () => {
  it('the fixture pairs map to the same normalized spans', () => {
    const openInference = mapOne(fixture('openinference_client_span_tool_calls.json'));
    const genAi = mapOne(fixture('otel_genai_client_span_tool_calls.json'));
    const deprecated = mapOne(fixture('otel_genai_deprecated_client_span_tool_calls.json'));
    const ioOnly = mapOne(fixture('openinference_client_span_input_output_only.json'));

    assert.deepEqual(openInference.inputMessages, [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: 'Absolutely! Let me check the weather for you.',
        tool_calls: [{ id: '1234', name: 'get_weather', arguments: { location: 'Paris' } }],
      },
      { role: 'tool', content: 'rainy, 57°F', tool_call_id: '1234' },
    ]);
    assert.deepEqual(openInference.outputMessages, [
      { role: 'assistant', content: 'The weather in Paris is currently rainy with a temperature of 57°F.' },
    ]);
    assert.equal(openInference.kind, 'llm');
    assert.equal(openInference.model, 'gpt-4-0613');
    assert.equal(openInference.provider, 'openai');
    assert.deepEqual(openInference.usage, { inputTokens: 97, outputTokens: 52, totalTokens: 149 });
    assert.equal(openInference.startTime, '2023-11-14T22:13:20.000Z');
    assert.equal(openInference.endTime, '2023-11-14T22:13:21.234567Z');
    assert.equal(openInference.latencyMs, 1234.567);

    for (const [label, span] of [
      ['genai', genAi],
      ['genai deprecated', deprecated],
      ['openinference input/output only', ioOnly],
    ] as const) {
      assert.equal(span.kind, 'llm', label);
      assert.deepEqual(span.inputMessages, openInference.inputMessages, label);
      assert.deepEqual(span.outputMessages, openInference.outputMessages, label);
      assert.equal(span.model, 'gpt-4-0613', label);
      assert.equal(span.provider, 'openai', label);
      assert.deepEqual(span.usage, openInference.usage, label);
    }
    // The request model differs from the response model, so it is kept rather than lost.
    assert.equal(genAi.attributes['gen_ai.request.model'], 'gpt-4');

    const tool = mapOne(fixture('otel_genai_tool_execution_span.json'));
    assert.equal(tool.kind, 'tool');
    assert.deepEqual(tool.tool, {
      name: 'get_weather',
      callId: '1234',
      description: 'Retrieves the current weather report for a specified city.',
      arguments: { city: 'New York' },
      result:
        '{"status": "success", "report": "The weather in New York is sunny with a temperature of 25 degrees Celsius (77 degrees Fahrenheit)."}',
    });
    assert.deepEqual(tool.attributes, { 'gen_ai.tool.type': 'function' });
  });

  it('keeps unknown attributes, and known ones it could not map', () => {
    const span = mapOne({
      'openinference.span.kind': 'LLM',
      'llm.model_name': 'gpt-4o',
      'llm.token_count.prompt': 'many',
      'llm.input_messages.0.message.role': 'user',
      'llm.input_messages.0.message.contents.0.message_content.type': 'text',
      'llm.input_messages.0.message.contents.0.message_content.text': 'What is in this picture?',
      'llm.input_messages.0.message.contents.1.message_content.type': 'image',
      'llm.input_messages.0.message.contents.1.message_content.image.image.url':
        'https://example.com/cat.png',
      'app.customer_tier': 'gold',
      'app.flags': ['beta', 'eu'],
      'app.limits': { daily: 5, ratio: 0.5, strict: true },
    });
    assert.equal(span.model, 'gpt-4o');
    assert.deepEqual(span.inputMessages, [{ role: 'user', content: 'What is in this picture?' }]);
    assert.equal(span.usage, undefined);
    assert.deepEqual(span.attributes, {
      'llm.token_count.prompt': 'many',
      'llm.input_messages.0.message.contents.1.message_content.type': 'image',
      'llm.input_messages.0.message.contents.1.message_content.image.image.url':
        'https://example.com/cat.png',
      'app.customer_tier': 'gold',
      'app.flags': ['beta', 'eu'],
      'app.limits': { daily: 5, ratio: 0.5, strict: true },
    });
  });

  it('rejects a malformed span by its path and keeps the good ones', () => {
    const good = (spanId: string) => otlpSpan({ 'openinference.span.kind': 'CHAIN' }, { spanId });
    const body = request([
      [good('0000000000000001')],
      [
        good('0000000000000002'),
        { ...good('0000000000000003'), traceId: undefined },
        good('not-hex'),
        { ...good('0000000000000004'), endTimeUnixNano: '1699999999000000000' },
        { ...good('0000000000000005'), startTimeUnixNano: 'yesterday' },
        good('0000000000000006'),
      ],
    ]);
    const { spans, errors } = flattenOtlpRequest(JSON.parse(JSON.stringify(body)));
    assert.deepEqual(
      spans.map((s) => s.span.spanId),
      ['0000000000000001', '0000000000000002', '0000000000000006'],
    );
    assert.deepEqual(
      errors.map((e) => e.path),
      [1, 2, 3, 4].map((k) => `resourceSpans[0].scopeSpans[1].spans[${k}]`),
    );
    assert.match(errors[0]!.error, /traceId is required.*32 hex/);
    assert.match(errors[1]!.error, /spanId "not-hex" is not 16 hex/);
    assert.match(errors[2]!.error, /endTimeUnixNano .* is before startTimeUnixNano/);
    assert.match(errors[3]!.error, /startTimeUnixNano "yesterday" is not a time.*nanoseconds/);
    assert.equal(spans[0]!.resource['service.name'], 'weather-bot');

    assert.deepEqual(
      flattenOtlpRequest({ resource_spans: [] }).errors.map((e) => e.path),
      ['(body)'],
    );
    assert.equal(flattenOtlpRequest('{}').errors[0]!.path, '(body)');
  });

  it('round-trips a normalized trace through OTLP in both conventions', () => {
    const system = { role: 'system' as const, content: 'You are a support agent.' };
    const user = { role: 'user' as const, content: 'Where is my refund for order A17?' };
    const lookupCall = { id: 'call_1', name: 'lookup_order', arguments: { order_id: 'A17' } };
    const refundCall = { id: 'call_2', name: 'issue_refund', arguments: { order_id: 'A17', amount: 120 } };
    const llm2Input = [
      system,
      user,
      { role: 'assistant' as const, content: null, tool_calls: [lookupCall] },
      {
        role: 'tool' as const,
        content: '{"status":"delivered"}',
        tool_call_id: 'call_1',
        name: 'lookup_order',
      },
    ];
    const at = (ms: string) => `2025-03-01T10:00:${ms}Z`;
    const original: TraceRecordInput = {
      id: 'conv-42',
      agent: 'support-bot',
      sessionId: 'sess-9',
      userId: 'user-7',
      promptName: 'support',
      promptVersion: 3,
      timestamp: at('00.000'),
      // Exact to the nanosecond, as an OTLP span arrives; the latency says the same.
      endTimestamp: at('04.50025'),
      latencyMs: 4500.25,
      model: 'gpt-4o-2024-08-06',
      input: { messages: llm2Input },
      output: { action: 'issue_refund', arguments: refundCall.arguments },
      // The refund tool's error is an answer the agent handles, not a failed trace.
      status: 'ok',
      usage: { inputTokens: 320, outputTokens: 50, totalTokens: 370 },
      costUsd: 0.75,
      attributes: { refund_amount: 120, region: 'eu' },
      spans: [
        {
          spanId: 'root',
          name: 'support-agent',
          kind: 'agent',
          startTime: at('00.000'),
          endTime: at('04.50025'),
          latencyMs: 4500.25,
          status: 'ok',
          input: 'Where is my refund for order A17?',
          output: 'Your refund is on its way.',
          attributes: { metadata: '{"refund_amount":120}', 'app.channel': 'chat' },
        },
        {
          spanId: 'kb-1',
          parentSpanId: 'root',
          name: 'kb-search',
          kind: 'retriever',
          startTime: at('00.050'),
          endTime: at('00.090'),
          latencyMs: 40,
          input: 'refund policy',
          retrievals: [
            { id: 'doc-1', content: 'Refunds take 5 days.', score: 0.82, metadata: { source: 'kb' } },
          ],
        },
        {
          spanId: 'llm-1',
          parentSpanId: 'root',
          name: 'chat gpt-4o',
          kind: 'llm',
          startTime: at('00.100'),
          endTime: at('01.100'),
          latencyMs: 1000,
          status: 'ok',
          model: 'gpt-4o-2024-08-06',
          provider: 'openai',
          inputMessages: [system, user],
          outputMessages: [{ role: 'assistant', content: null, tool_calls: [lookupCall] }],
          usage: { inputTokens: 120, outputTokens: 20, totalTokens: 140 },
          costUsd: 0.25,
          attributes: { 'gen_ai.request.model': 'gpt-4o', 'llm.invocation_parameters': '{"temperature":0}' },
        },
        {
          spanId: 'tool-1',
          parentSpanId: 'root',
          name: 'execute_tool lookup_order',
          kind: 'tool',
          startTime: at('01.200'),
          endTime: at('01.4505'),
          latencyMs: 250.5,
          tool: {
            name: 'lookup_order',
            callId: 'call_1',
            description: 'Looks up an order',
            arguments: { order_id: 'A17' },
            result: '{"status":"delivered"}',
          },
        },
        {
          spanId: 'llm-2',
          parentSpanId: 'root',
          name: 'chat gpt-4o',
          kind: 'llm',
          startTime: at('01.500'),
          endTime: at('03.000125'),
          latencyMs: 1500.125,
          model: 'gpt-4o-2024-08-06',
          provider: 'openai',
          inputMessages: llm2Input,
          outputMessages: [
            { role: 'assistant', content: 'Issuing your refund now.', tool_calls: [refundCall] },
          ],
          usage: { inputTokens: 200, outputTokens: 30, totalTokens: 230 },
          costUsd: 0.5,
        },
        {
          spanId: 'refund-1',
          parentSpanId: 'root',
          name: 'execute_tool issue_refund',
          kind: 'tool',
          startTime: at('03.100'),
          endTime: at('04.400'),
          latencyMs: 1300,
          status: 'error',
          statusMessage: 'payment gateway timeout',
          tool: { name: 'issue_refund', callId: 'call_2', arguments: { order_id: 'A17', amount: 120 } },
        },
      ],
    };
    const expected = TraceRecord.parse(original);

    for (const convention of ['openinference', 'genai'] as const) {
      const exported = traceToOtlp(expected, { convention });
      assert.deepEqual(traceToOtlp(expected, { convention }), exported, 'export is deterministic');
      const { spans, errors } = flattenOtlpRequest(JSON.parse(JSON.stringify(exported)));
      assert.deepEqual(errors, [], convention);
      assert.ok(spans.every((s) => s.traceId === 'conv-42'));
      const resource = spans[0]!.resource;
      // The export names the agent for a reader that has no token to say it (see span-agent-attribution).
      const agent = resource['flywheel.agent'] as string;
      assert.equal(agent, 'support-bot');
      const rebuilt = assembleTrace({ traceId: 'conv-42', agent, resource, spans: spans.map((s) => s.span) });
      assert.deepEqual(TraceRecord.parse(rebuilt), expected, convention);
      const shuffled = assembleTrace({
        traceId: 'conv-42',
        agent,
        resource,
        spans: spans.map((s) => s.span).reverse(),
      });
      assert.deepEqual(shuffled, rebuilt, `${convention}: span order does not matter`);
    }
  });

  it('exports OTLP ids as they are and hashes the others', () => {
    const hexTrace = TraceRecord.parse({
      id: TRACE,
      agent: 'weather-bot',
      timestamp: '2025-03-01T10:00:00.000Z',
      input: { messages: [{ role: 'user', content: 'hi' }] },
      output: { action: 'respond', content: 'hello' },
      spans: [
        {
          spanId: 'eee19b7ec3c1b174',
          kind: 'chain',
          startTime: '2025-03-01T10:00:00.000Z',
          endTime: '2025-03-01T10:00:00.010Z',
          latencyMs: 10,
        },
      ],
    });
    const span = traceToOtlp(hexTrace, { convention: 'genai' }).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.equal(span.traceId, TRACE);
    assert.equal(span.spanId, 'eee19b7ec3c1b174');
    assert.ok(!span.attributes.some((kv) => kv.key.startsWith('flywheel.')));

    const hashed = traceToOtlp({ ...hexTrace, id: 'conv-1' }, { convention: 'genai' }).resourceSpans[0]!
      .scopeSpans[0]!.spans[0]!;
    assert.match(hashed.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(hashed.traceId, TRACE);
  });
});
