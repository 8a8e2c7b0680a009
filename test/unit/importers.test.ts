import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { openAiChatLogToTraces } from '../../traces/openai-chat-import.js';
import { tauBenchToTraces } from '../../traces/tau-bench-import.js';
import { TraceRecord, type Span } from '../../schemas/trace.js';
import { sharedDataset } from '../../scripts/shared-datasets.js';

interface RawTrajectory {
  task_id: number;
  trial: number;
  reward: number;
  info: { task: { actions: { name: string; kwargs: Record<string, unknown> }[] }; source: string };
  traj: { role: string; content: string | null; tool_call_id?: string }[];
}

const raw = readFileSync(sharedDataset('tau_bench/historical_trajectories/gpt-4o-airline.json'), 'utf8');
const trajectories = JSON.parse(raw) as RawTrajectory[];
const options = {
  agent: 'airline',
  source: 'gpt-4o-airline',
  baseTime: '2024-05-15T15:00:00Z',
  model: 'gpt-4o',
};

function assertWellFormedTree(spans: readonly Span[], traceId: string): void {
  const ids = new Set(spans.map((s) => s.spanId));
  assert.equal(ids.size, spans.length, `${traceId}: span ids are unique`);
  assert.equal(spans.filter((s) => s.parentSpanId === null).length, 1, `${traceId}: one root`);
  for (const s of spans) {
    if (s.parentSpanId !== null) assert.ok(ids.has(s.parentSpanId), `${traceId}: parent of ${s.spanId}`);
    assert.ok(
      Date.parse(s.endTime) >= Date.parse(s.startTime),
      `${traceId}: ${s.spanId} ends after it starts`,
    );
  }
}

describe('tau-bench import', () => {
  const { traces, errors } = tauBenchToTraces(JSON.parse(raw), options);

  it('imports all 200 trajectories with distinct ids and the file rewards', () => {
    assert.deepEqual(errors, []);
    assert.equal(traces.length, 200);
    assert.equal(new Set(traces.map((t) => t.id)).size, 200);
    assert.equal(traces.filter((t) => t.outcome === 'success').length, 84);
    assert.equal(traces.filter((t) => t.outcome === 'failure').length, 116);
    traces.forEach((t, i) => {
      const source = trajectories[i]!;
      assert.equal(t.id, `tau-bench:gpt-4o-airline:${source.task_id}:${source.trial}`);
      assert.equal(t.reward, source.reward);
      assert.deepEqual(
        t.expectedActions,
        source.info.task.actions.map((a) => ({ action: a.name, arguments: a.kwargs })),
      );
      assert.equal(t.attributes['tau_bench.task_id'], source.task_id);
      assert.equal(t.attributes['tau_bench.info.source'], source.info.source);
      assert.equal(t.model, 'gpt-4o');
    });
  });

  it('produces valid traces with well-formed span trees', () => {
    for (const t of traces) {
      assert.deepEqual(TraceRecord.parse(t), t);
      assertWellFormedTree(t.spans, t.id);
      const root = t.spans.find((s) => s.parentSpanId === null)!;
      assert.equal(root.kind, 'agent');
      for (const s of t.spans.filter((x) => x.kind === 'llm')) assert.equal(s.parentSpanId, root.spanId);
    }
  });

  it('gives each llm span the conversation before it and each tool span the result of its call', () => {
    traces.forEach((t, i) => {
      const source = trajectories[i]!;
      const assistants = source.traj.map((m, p) => [m, p] as const).filter(([m]) => m.role === 'assistant');
      const llm = t.spans.filter((s) => s.kind === 'llm');
      assert.equal(llm.length, assistants.length);
      llm.forEach((s, k) => {
        const position = assistants[k]![1];
        assert.equal(s.inputMessages?.length, position);
        assert.equal(s.outputMessages?.[0]?.role, 'assistant');
      });
      const tools = t.spans.filter((s) => s.kind === 'tool');
      const toolMessages = source.traj.filter((m) => m.role === 'tool');
      // Every call is answered by the next message in this dataset, so order lines them up.
      assert.equal(tools.length, toolMessages.length);
      tools.forEach((s, k) => {
        const message = toolMessages[k]!;
        assert.equal(s.tool?.callId, message.tool_call_id);
        assert.equal(s.tool?.result, message.content);
        assert.equal(s.status, message.content?.startsWith('Error') ? 'error' : 'ok');
        assert.ok(llm.some((l) => l.spanId === s.parentSpanId));
      });
    });
    const failed = traces.flatMap((t) => t.spans).filter((s) => s.kind === 'tool' && s.status === 'error');
    assert.equal(failed.length, 73);
  });

  it('takes the final assistant message as the output and what precedes it as the input', () => {
    const first = traces[0]!;
    const source = trajectories[0]!;
    const final = source.traj.map((m) => m.role).lastIndexOf('assistant');
    assert.equal(first.input.messages.length, final);
    assert.equal(first.input.messages[0]?.role, 'system');
    assert.equal(first.userId, 'mia_li_3668');
    assert.equal(first.sessionId, first.id);
    for (const t of traces) {
      const last = t.spans.filter((s) => s.kind === 'llm').at(-1)!.outputMessages![0]!;
      const call = last.tool_calls?.[0];
      if (call) assert.deepEqual(t.output, { action: call.name, arguments: call.arguments });
      else assert.deepEqual(t.output, { action: 'respond', arguments: {}, content: last.content ?? '' });
    }
    // Assistant tool calls in the input keep their parsed arguments.
    const withCall = first.input.messages.find((m) => m.tool_calls?.length);
    assert.equal(typeof withCall?.tool_calls?.[0]?.arguments, 'object');
  });

  it('spaces trajectories a minute apart and messages a second apart', () => {
    assert.equal(traces[0]!.timestamp, '2024-05-15T15:00:00.000Z');
    assert.equal(traces[1]!.timestamp, '2024-05-15T15:01:00.000Z');
    const root = traces[0]!.spans[0]!;
    assert.equal(root.latencyMs, (trajectories[0]!.traj.length - 1) * 1000);
  });

  it('reports a corrupted trajectory by index and keeps the others', () => {
    const copy = JSON.parse(raw) as unknown[];
    copy[3] = { ...(copy[3] as object), reward: 'high' };
    copy[7] = 'not a trajectory';
    copy[9] = { ...(copy[9] as RawTrajectory), traj: [{ role: 'system', content: 'policy' }] };
    const result = tauBenchToTraces(copy, options);
    assert.equal(result.traces.length, 197);
    assert.deepEqual(
      result.errors.map((e) => e.item),
      [3, 7, 9],
    );
    assert.match(result.errors[0]!.error, /^reward: /);
    assert.match(result.errors[2]!.error, /no assistant message/);
  });

  it('reports a repeated task and trial, and a file that is not an array', () => {
    const result = tauBenchToTraces([trajectories[0], trajectories[0]], options);
    assert.equal(result.traces.length, 1);
    assert.deepEqual(
      result.errors.map((e) => e.item),
      [1],
    );
    assert.deepEqual(tauBenchToTraces({}, options).errors[0]?.item, -1);
    assert.throws(() => tauBenchToTraces([], { ...options, baseTime: 'yesterday' }), RangeError);
  });

  it('is idempotent: importing twice gives identical traces', () => {
    const again = tauBenchToTraces(JSON.parse(raw), options);
    assert.deepEqual(
      again.traces.map((t) => t.id),
      traces.map((t) => t.id),
    );
    assert.deepEqual(again.traces, traces);
  });
});

describe('OpenAI chat log import', () => {
  const defaultTime = '2025-01-01T00:00:00Z';
  const chat = {
    id: 'conv-1',
    user: 'u-42',
    session_id: 's-1',
    created: 1_700_000_000,
    metadata: { channel: 'web', tier: 'gold' },
    tools: [{ type: 'function', function: { name: 'get_order', parameters: { type: 'object' } } }],
    messages: [
      { role: 'system', content: 'You are a support agent.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Where is ' },
          { type: 'text', text: 'order 7?' },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_order', arguments: '{"id":7}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"status":"shipped"}' },
      { role: 'assistant', content: 'Order 7 has shipped.' },
    ],
  };
  const exchange = {
    request: {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: 'Cancel order 9' },
      ],
      user: 'u-7',
      metadata: { app: 'shop' },
    },
    response: {
      id: 'chatcmpl-abc',
      created: 1_700_000_100,
      model: 'gpt-4o-mini-2024-07-18',
      choices: [
        {
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_9', type: 'function', function: { name: 'cancel', arguments: '{"id":9' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 },
    },
    metadata: { env: 'prod' },
  };
  const finetune = {
    messages: [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
    ],
  };

  it('maps the chat shape with tool calls and content parts', () => {
    const { traces, errors } = openAiChatLogToTraces([{ line: 1, value: chat }], {
      agent: 'support',
      defaultTime,
    });
    assert.deepEqual(errors, []);
    const t = traces[0]!;
    assert.equal(t.id, 'conv-1');
    assert.equal(t.userId, 'u-42');
    assert.equal(t.sessionId, 's-1');
    assert.equal(t.timestamp, '2023-11-14T22:13:20.000Z');
    assert.deepEqual(t.attributes, { channel: 'web', tier: 'gold' });
    assert.equal(t.input.messages.length, 4);
    assert.equal(t.input.messages[1]!.content, 'Where is order 7?');
    assert.equal(t.input.messages[2]!.content, null);
    assert.deepEqual(t.input.messages[2]!.tool_calls, [
      { id: 'call_1', name: 'get_order', arguments: { id: 7 } },
    ]);
    assert.equal(t.input.messages[3]!.tool_call_id, 'call_1');
    assert.deepEqual(t.output, { action: 'respond', arguments: {}, content: 'Order 7 has shipped.' });
    assert.equal(t.spans.length, 1);
    const span = t.spans[0]!;
    assert.equal(span.kind, 'llm');
    assert.equal(span.inputMessages?.length, 4);
    assert.equal(span.outputMessages?.[0]?.content, 'Order 7 has shipped.');
    assert.deepEqual(span.attributes['llm.tools'], chat.tools);
    assert.deepEqual(TraceRecord.parse(t), t);
  });

  it('maps the request/response shape with usage and a tool-call output', () => {
    const { traces, errors } = openAiChatLogToTraces([{ line: 1, value: exchange }], {
      agent: 'support',
      defaultTime,
    });
    assert.deepEqual(errors, []);
    const t = traces[0]!;
    assert.equal(t.id, 'chatcmpl-abc');
    assert.equal(t.model, 'gpt-4o-mini-2024-07-18');
    assert.equal(t.userId, 'u-7');
    assert.equal(t.timestamp, '2023-11-14T22:15:00.000Z');
    assert.deepEqual(t.usage, { inputTokens: 30, outputTokens: 12, totalTokens: 42 });
    assert.deepEqual(t.attributes, { app: 'shop', env: 'prod' });
    assert.equal(t.input.messages[0]!.role, 'system');
    // Broken JSON arguments are kept raw rather than lost.
    assert.deepEqual(t.output, { action: 'cancel', arguments: { _raw: '{"id":9' } });
    const span = t.spans[0]!;
    assert.equal(span.model, 'gpt-4o-mini-2024-07-18');
    assert.deepEqual(span.usage, t.usage);
    assert.equal(span.attributes['openai.finish_reason'], 'tool_calls');
    assert.deepEqual(TraceRecord.parse(t), t);
  });

  it('hashes content into a stable id and falls back to the default time', () => {
    const a = openAiChatLogToTraces([{ line: 1, value: finetune }], { agent: 'support', defaultTime });
    const b = openAiChatLogToTraces([{ line: 5, value: structuredClone(finetune) }], {
      agent: 'support',
      defaultTime,
    });
    assert.match(a.traces[0]!.id, /^openai-chat:[0-9a-f]+$/);
    assert.equal(a.traces[0]!.id, b.traces[0]!.id);
    assert.equal(a.traces[0]!.timestamp, '2025-01-01T00:00:00.000Z');
    const other = openAiChatLogToTraces(
      [{ line: 1, value: { messages: [...finetune.messages, finetune.messages[1]] } }],
      {
        agent: 'support',
        defaultTime,
      },
    );
    assert.notEqual(other.traces[0]!.id, a.traces[0]!.id);
  });

  it('reports bad lines by number and keeps the good ones', () => {
    const { traces, errors } = openAiChatLogToTraces(
      [
        { line: 1, value: chat },
        { line: 2, value: 'just a string' },
        { line: 3, value: { id: 'x' } },
        { line: 4, value: { messages: [{ role: 'user', content: 'Hi' }] } },
        { line: 5, value: exchange },
        { line: 6, value: { request: exchange.request, response: { ...exchange.response, choices: [] } } },
        { line: 7, value: { messages: [{ role: 'wizard', content: 'Hi' }] } },
        { line: 8, value: finetune },
      ],
      { agent: 'support', defaultTime },
    );
    assert.deepEqual(
      traces.map((t) => t.id),
      ['conv-1', 'chatcmpl-abc', traces[2]!.id],
    );
    assert.deepEqual(
      errors.map((e) => e.line),
      [2, 3, 4, 6, 7],
    );
    assert.match(errors[0]!.error, /not a JSON object/);
    assert.match(errors[1]!.error, /^messages: /);
    assert.match(errors[2]!.error, /no assistant message/);
    assert.match(errors[3]!.error, /response\.choices/);
    assert.match(errors[4]!.error, /messages\.0\.role/);
  });
});
