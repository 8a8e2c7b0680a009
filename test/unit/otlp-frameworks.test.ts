import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { keyValuesToRecord } from '../../traces/otlp-json.js';
import { assembleTrace, flattenOtlpRequest } from '../../traces/otlp-mapping.js';
import { messagesFromJson } from '../../traces/otlp-message-decode.js';
import { traceToOtlp } from '../../traces/otlp-export.js';
import { judgedSteps } from '../../evaluation/agent-trajectory.js';
import { renderTranscript } from '../../llm/prompt-templates.js';
import { TraceRecord, type ChatMessage, type Span } from '../../schemas/trace.js';

/**
 * Every fixture in test/fixtures/otlp (see its README) goes through ingest's mapping and
 * assembly. The source side of each comparison is read from the raw attributes with a
 * deliberately naive counter, independent of the decoder under test.
 */

const dir = fileURLToPath(new URL('../fixtures/otlp/', import.meta.url));

interface RawSpan {
  spanId: string;
  name: string;
  attributes: { key: string; value: unknown }[];
  events?: { name: string; attributes: { key: string; value: unknown }[] }[];
}

function load(file: string) {
  const body = JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as {
    resourceSpans: { scopeSpans: { spans: RawSpan[] }[] }[];
  };
  const raw = body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
  const { spans, errors } = flattenOtlpRequest(JSON.parse(JSON.stringify(body)));
  assert.deepEqual(errors, [], file);
  assert.equal(spans.length, raw.length, `${file}: every span is kept`);
  const resource = spans[0]!.resource;
  // Ingest takes the agent from the sending token; these fixtures name none.
  const agent = 'agent';
  const trace = assembleTrace({
    traceId: spans[0]!.traceId,
    agent,
    resource,
    spans: spans.map((s) => s.span),
  });
  const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
  return { raw, trace, agent, resource, span: (id: string) => byId.get(id)! };
}

/** The role names as written: `<prefix>.N[.message].role` keys, or one per JSON message. */
function sourceRoles(raw: RawSpan, side: 'input' | 'output'): string[] {
  const attrs = keyValuesToRecord(raw.attributes as never);
  const indexed = new Map<number, string>();
  const prefixes =
    side === 'input'
      ? ['llm.input_messages.', 'gen_ai.prompt.']
      : ['llm.output_messages.', 'gen_ai.completion.'];
  for (const [key, value] of Object.entries(attrs)) {
    for (const prefix of prefixes) {
      const m = new RegExp(`^${prefix.replaceAll('.', '\\.')}(\\d+)\\.(?:message\\.)?role$`).exec(key);
      if (m && typeof value === 'string') indexed.set(Number(m[1]), value);
    }
  }
  if (indexed.size > 0) return [...indexed.entries()].sort(([a], [b]) => a - b).map(([, r]) => r);
  const json = attrs[side === 'input' ? 'gen_ai.input.messages' : 'gen_ai.output.messages'];
  const roles: string[] = [];
  if (side === 'input' && typeof attrs['gen_ai.system_instructions'] === 'string') roles.push('system');
  if (typeof json === 'string') {
    for (const m of JSON.parse(json) as { role: string; parts: { type: string }[] }[]) {
      // A GenAI message answering several calls holds one response part per call.
      const responses = m.parts.filter((p) => p.type === 'tool_call_response').length;
      for (let i = 0; i < Math.max(1, responses); i += 1) roles.push(m.role);
    }
  }
  return roles;
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** The role the source wrote, as the normalized message keeps it. */
const writtenRole = (m: ChatMessage) => m.sourceRole ?? m.role;

function assertEverySourceMessage(file: string, raw: readonly RawSpan[], span: (id: string) => Span): void {
  for (const r of raw) {
    const mapped = span(r.spanId);
    for (const side of ['input', 'output'] as const) {
      const source = sourceRoles(r, side);
      if (source.length === 0) continue;
      const messages = side === 'input' ? mapped.inputMessages : mapped.outputMessages;
      assert.ok(messages, `${file} ${r.name} ${side}: messages decoded`);
      assert.deepEqual(
        countBy(messages.map(writtenRole)),
        countBy(source),
        `${file} ${r.name} (${r.spanId}) ${side}: one message per source message, by role`,
      );
    }
  }
}

const roles = (messages: readonly ChatMessage[]) => messages.map((m) => [m.role, m.sourceRole ?? null]);

/** Exported in either convention and read back, the trace is the same, source roles included. */
function assertRoundTrip(trace: TraceRecord, agent: string): void {
  const expected = TraceRecord.parse(trace);
  for (const convention of ['openinference', 'genai'] as const) {
    const { spans, errors } = flattenOtlpRequest(
      JSON.parse(JSON.stringify(traceToOtlp(expected, { convention }))),
    );
    assert.deepEqual(errors, [], convention);
    const again = assembleTrace({
      traceId: trace.id,
      agent,
      resource: spans[0]!.resource,
      spans: spans.map((s) => s.span),
    });
    assert.deepEqual(again.input, expected.input, `${convention}: trace input`);
    assert.deepEqual(again.output, expected.output, `${convention}: trace output`);
    for (const s of expected.spans) {
      const back = again.spans.find((x) => x.spanId === s.spanId)!;
      assert.deepEqual(back.inputMessages, s.inputMessages, `${convention} ${s.name}: input messages`);
      assert.deepEqual(back.outputMessages, s.outputMessages, `${convention} ${s.name}: output messages`);
      assert.deepEqual(back.tool, s.tool, `${convention} ${s.name}: tool`);
    }
  }
}

function assertOrderFree(file: string): void {
  const { raw, trace } = load(file);
  const body = JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as {
    resourceSpans: { scopeSpans: { spans: RawSpan[] }[] }[];
  };
  body.resourceSpans[0]!.scopeSpans[0]!.spans.reverse();
  const { spans } = flattenOtlpRequest(body);
  const reversed = assembleTrace({
    traceId: trace.id,
    agent: trace.agent,
    resource: spans[0]!.resource,
    spans: spans.map((s) => s.span),
  });
  assert.equal(raw.length, reversed.spans.length);
  assert.deepEqual(reversed, trace, `${file}: the trace does not depend on span arrival order`);
}

describe('OTLP fixtures of each agent framework', () => {
  it('smolagents CodeAgent: code runs and observations are tool calls and results the judge reads', () => {
    const file = 'smolagents-code-agent.json';
    const { raw, trace, agent, span } = load(file);
    assertEverySourceMessage(file, raw, span);

    // The decision is the run's last model call, not the rewrite call after the run.
    assert.deepEqual(roles(trace.input.messages), [
      ['system', null],
      ['user', null],
      ['assistant', null],
      ['assistant', 'tool-call'],
      ['tool', 'tool-response'],
    ]);
    const [, task, , codeCall, observation] = trace.input.messages;
    assert.match(task!.content!, /leopard .* Pont des Arts/);
    assert.deepEqual(codeCall!.tool_calls, [
      {
        id: 'call_1',
        name: 'python_interpreter',
        arguments: { code: 'result = web_search("Pont des Arts length in metres")\nprint(result)' },
      },
    ]);
    assert.equal(codeCall!.content, null);
    assert.equal(observation!.tool_call_id, 'call_1', 'the observation answers the step it follows');
    assert.match(observation!.content!, /155 metres long/);
    assert.equal(trace.output.action, 'respond');
    assert.match(trace.output.content!, /final_answer\(round\(155 \/ speed, 1\)\)/);
    assert.doesNotMatch(trace.output.content!, /friendly sentence|about 9\.6 seconds/);

    // Positional tool arguments are named from the tool's own parameter schema.
    assert.deepEqual(span('a000000000000005').tool!.arguments, { query: 'Pont des Arts length in metres' });
    assert.deepEqual(span('a000000000000008').tool!.arguments, { answer: 9.6 });
    assert.match(span('a000000000000005').input!, /sanitize_inputs_outputs/, 'the raw call is kept');

    const transcript = renderTranscript(trace.input.messages);
    assert.match(transcript, /python_interpreter\(\{"code":"result = web_search/);
    assert.match(transcript, /tool result: Observation:\nExecution logs:/);
    assert.deepEqual(
      judgedSteps(trace).map((s) => s.action),
      ['web_search', 'final_answer', 'respond'],
    );
    assertRoundTrip(trace, agent);
    assertOrderFree(file);
  });

  it('smolagents ToolCallingAgent: tool-call text becomes calls with ids, the observation names its call', () => {
    const file = 'smolagents-tool-calling-agent.json';
    const { raw, trace, agent, span } = load(file);
    assertEverySourceMessage(file, raw, span);
    const [, , call, observation] = trace.input.messages;
    assert.deepEqual(call, {
      role: 'assistant',
      content: null,
      sourceRole: 'tool-call',
      tool_calls: [{ id: 'call_8Jq2', name: 'get_weather', arguments: { location: 'Paris' } }],
    });
    assert.equal(observation!.role, 'tool');
    assert.equal(observation!.tool_call_id, 'call_8Jq2');
    assert.deepEqual(trace.output, {
      action: 'final_answer',
      arguments: { answer: 'It is raining in Paris (12°C), so take an umbrella.' },
    });
    assert.deepEqual(span('b000000000000004').tool!.arguments, { location: 'Paris' });
    assertRoundTrip(trace, agent);
    assertOrderFree(file);
  });

  it('LangGraph: the last agent node decides, LangGraph state decodes with LangChain role names', () => {
    const file = 'langgraph.json';
    const { raw, trace, agent, span } = load(file);
    assertEverySourceMessage(file, raw, span);
    assert.deepEqual(roles(trace.input.messages), [
      ['system', null],
      ['user', null],
      ['assistant', null],
      ['tool', null],
    ]);
    assert.deepEqual(trace.input.messages[2]!.tool_calls, [
      { id: 'call_Vb2x', name: 'get_weather', arguments: { city: 'sf' } },
    ]);
    assert.equal(trace.input.messages[3]!.tool_call_id, 'call_Vb2x');
    assert.deepEqual(trace.output, {
      action: 'respond',
      arguments: {},
      content: 'It is 60 degrees and foggy in San Francisco right now.',
    });
    // The graph's state in its output value: human, ai (tool call), tool, ai.
    const state = messagesFromJson(span('c000000000000001').output)!.messages;
    assert.deepEqual(roles(state), [
      ['user', 'human'],
      ['assistant', 'ai'],
      ['tool', null],
      ['assistant', 'ai'],
    ]);
    assert.deepEqual(state[1]!.tool_calls, [
      { id: 'call_Vb2x', name: 'get_weather', arguments: { city: 'sf' } },
    ]);
    assert.equal(state[2]!.tool_call_id, 'call_Vb2x');
    assert.deepEqual(messagesFromJson(span('c000000000000001').input)!.messages, [
      { role: 'user', content: "What's the weather in San Francisco?" },
    ]);
    // LangChain records a tool's input as Python's str(dict).
    assert.deepEqual(span('c000000000000005').tool!.arguments, { city: 'sf' });
    assert.equal(trace.sessionId, 'thread-42');
    assertRoundTrip(trace, agent);
    assertOrderFree(file);
  });

  it('OpenAI Agents SDK: agent spans without input/output, the decision comes from the last response span', () => {
    const file = 'openai-agents.json';
    const { raw, trace, agent, span } = load(file);
    assertEverySourceMessage(file, raw, span);
    assert.deepEqual(roles(trace.input.messages), [
      ['system', null],
      ['user', null],
      ['assistant', null],
      ['tool', null],
    ]);
    assert.equal(trace.input.messages[0]!.content, 'You are a weather agent. Answer in one sentence.');
    assert.deepEqual(trace.input.messages[2]!.tool_calls, [
      { id: 'call_Ks9d', name: 'get_weather', arguments: { city: 'Tokyo' } },
    ]);
    assert.equal(trace.input.messages[3]!.tool_call_id, 'call_Ks9d');
    assert.equal(trace.output.content, 'It is sunny and 24°C in Tokyo.');
    // The Responses API input list decodes to the same conversation (without instructions).
    const items = messagesFromJson(span('d000000000000005').input)!.messages;
    assert.deepEqual(items, trace.input.messages.slice(1));
    assert.deepEqual(span('d000000000000004').tool!.arguments, { city: 'Tokyo' });
    assertRoundTrip(trace, agent);
    assertOrderFree(file);
  });

  it('LlamaIndex: developer and chatbot roles keep their names, tool kwargs unwrap', () => {
    const file = 'llamaindex.json';
    const { raw, trace, agent, span } = load(file);
    assertEverySourceMessage(file, raw, span);
    assert.deepEqual(roles(trace.input.messages), [
      ['system', 'developer'],
      ['user', null],
      ['assistant', 'chatbot'],
      ['user', null],
      ['assistant', null],
      ['tool', null],
      ['assistant', null],
      ['tool', null],
    ]);
    assert.deepEqual(
      trace.input.messages.flatMap((m) => m.tool_calls ?? []),
      [
        { id: 'call_m1', name: 'multiply', arguments: { a: 121, b: 3 } },
        { id: 'call_a1', name: 'add', arguments: { a: 363, b: 42 } },
      ],
    );
    assert.deepEqual(
      trace.input.messages.filter((m) => m.role === 'tool').map((m) => [m.tool_call_id, m.name, m.content]),
      [
        ['call_m1', 'multiply', '363'],
        ['call_a1', 'add', '405'],
      ],
    );
    assert.equal(trace.output.content, '121 times 3 is 363, and adding 42 gives 405.');
    assert.deepEqual(span('e000000000000004').tool!.arguments, { a: 121, b: 3 });
    assertRoundTrip(trace, agent);
    assertOrderFree(file);
  });

  it('OpenLLMetry: indexed gen_ai.prompt/completion keys, Traceloop kinds, positional arguments named from another span', () => {
    const file = 'openllmetry.json';
    const { raw, trace, agent, span } = load(file);
    assertEverySourceMessage(file, raw, span);
    assert.equal(span('f000000000000001').kind, 'chain');
    assert.equal(span('f000000000000003').kind, 'tool');
    assert.deepEqual(roles(trace.input.messages), [
      ['system', null],
      ['user', null],
      ['assistant', null],
      ['tool', null],
    ]);
    assert.deepEqual(trace.input.messages[2]!.tool_calls, [
      { id: 'call_Qm7', name: 'get_weather', arguments: { city: 'Berlin' } },
    ]);
    assert.equal(trace.input.messages[3]!.tool_call_id, 'call_Qm7');
    assert.equal(trace.output.content, 'It is 18°C and cloudy in Berlin.');
    // `get_weather("Berlin")`: the tool span has no schema; the model call's functions name it.
    assert.deepEqual(span('f000000000000003').tool!.arguments, { city: 'Berlin' });
    assert.deepEqual(span('f000000000000002').usage, { inputTokens: 88, outputTokens: 15, totalTokens: 103 });
    assertRoundTrip(trace, agent);
    assertOrderFree(file);
  });

  it('OTel GenAI (current): parts, parallel calls and their responses, system instructions, reasoning kept raw', () => {
    const file = 'genai-current.json';
    const { raw, trace, agent, span } = load(file);
    assertEverySourceMessage(file, raw, span);
    assert.deepEqual(roles(trace.input.messages), [
      ['system', null],
      ['user', null],
      ['assistant', null],
      ['tool', null],
      ['tool', null],
    ]);
    assert.deepEqual(
      trace.input.messages[2]!.tool_calls!.map((c) => [c.id, c.arguments]),
      [
        ['call_a', { flight: 'SK12' }],
        ['call_b', { flight: 'SK48' }],
      ],
    );
    assert.deepEqual(
      trace.input.messages.slice(3).map((m) => [m.tool_call_id, m.content]),
      [
        ['call_a', 'on time'],
        ['call_b', 'delayed 40 minutes'],
      ],
    );
    assert.equal(trace.output.content, 'SK12 is on time; SK48 is delayed by 40 minutes.');
    // The reasoning part has no field: the attribute stays next to the decoded messages.
    assert.match(String(span('1000000000000005').attributes['gen_ai.output.messages']), /"reasoning"/);
    assert.equal(span('1000000000000001').kind, 'agent');
    assertRoundTrip(trace, agent);
    assertOrderFree(file);
  });

  it('OTel GenAI (deprecated): content events and per-message events become the span conversation', () => {
    const file = 'genai-deprecated.json';
    const { raw, trace, agent, span } = load(file);
    // Source messages are events here: one per message event, the prompt event's list.
    assert.deepEqual(roles(span('2000000000000002').inputMessages!), [
      ['system', null],
      ['user', null],
    ]);
    assert.deepEqual(span('2000000000000002').outputMessages![0]!.tool_calls, [
      { id: 'call_U1', name: 'get_quota', arguments: { account_id: 'acc_981' } },
    ]);
    const perMessage = raw.find((r) => r.spanId === '2000000000000004')!.events!;
    assert.equal(span('2000000000000004').inputMessages!.length, perMessage.length - 1, 'all but the choice');
    assert.deepEqual(roles(trace.input.messages), [
      ['system', null],
      ['user', null],
      ['assistant', null],
      ['tool', null],
    ]);
    assert.equal(trace.input.messages[3]!.tool_call_id, 'call_U1');
    assert.equal(trace.output.content, 'You have 12.5 GB left of your 100 GB plan.');
    assert.equal(span('2000000000000002').events!.length, 2, 'the events themselves are kept');
    assertRoundTrip(trace, agent);
    assertOrderFree(file);
  });
});
