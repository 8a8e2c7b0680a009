import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapSpanAttributes } from '../../traces/otlp-span-attributes.js';
import { completionFromJson, messagesFromJson } from '../../traces/otlp-message-decode.js';
import { encodeGenAiMessages, encodeOpenInferenceMessages } from '../../traces/otlp-message-encode.js';
import { parsePythonLiteral } from '../../traces/python-literal.js';
import { linkSmolagentsSteps, toolCallsFromText } from '../../traces/smolagents-steps.js';
import { callWrapperOf, parameterNamesOf, unwrapCall } from '../../traces/tool-arguments.js';
import { nameToolArguments } from '../../traces/trace-tool-arguments.js';
import { messagesFromGenAiEvents } from '../../traces/genai-event-messages.js';
import { assembleTrace } from '../../traces/otlp-trace-assembly.js';
import type { ChatMessage, Span, SpanInput } from '../../schemas/trace.js';
import { Span as SpanSchema } from '../../schemas/trace.js';

const decode = (messages: unknown[]) => messagesFromJson(JSON.stringify(messages))!.messages;

describe('message roles', () => {
  it('maps every framework role to the nearest of four and keeps the name it had', () => {
    const names = [
      'system',
      'developer',
      'user',
      'human',
      'assistant',
      'ai',
      'model',
      'chatbot',
      'CHATBOT',
      'tool',
      'function',
      'ipython',
      'tool-call',
      'tool-response',
    ];
    const got = decode(names.map((role) => ({ role, content: `as ${role}` })));
    assert.deepEqual(
      got.map((m) => [m.role, m.sourceRole]),
      [
        ['system', undefined],
        ['system', 'developer'],
        ['user', undefined],
        ['user', 'human'],
        ['assistant', undefined],
        ['assistant', 'ai'],
        ['assistant', 'model'],
        ['assistant', 'chatbot'],
        ['assistant', 'CHATBOT'],
        ['tool', undefined],
        ['tool', 'function'],
        ['tool', 'ipython'],
        ['assistant', 'tool-call'],
        ['tool', 'tool-response'],
      ],
    );
    assert.deepEqual(
      got.map((m) => m.content),
      names.map((n) => `as ${n}`),
    );
  });

  it('keeps a message with an unknown role or none, reading its role from what it carries', () => {
    const got = decode([
      { role: 'critic', content: 'Too long.' },
      { role: 'unknown', content: 'from an OpenLLMetry LangChain span' },
      { content: 'no role at all' },
      { tool_calls: [{ id: 'c1', function: { name: 'lookup', arguments: '{"q":"x"}' } }] },
      { tool_call_id: 'c1', content: 'found' },
    ]);
    assert.deepEqual(got, [
      { role: 'user', content: 'Too long.', sourceRole: 'critic' },
      { role: 'user', content: 'from an OpenLLMetry LangChain span', sourceRole: 'unknown' },
      { role: 'user', content: 'no role at all', sourceRole: '' },
      {
        role: 'assistant',
        content: null,
        sourceRole: '',
        tool_calls: [{ id: 'c1', name: 'lookup', arguments: { q: 'x' } }],
      },
      { role: 'tool', content: 'found', tool_call_id: 'c1', sourceRole: '' },
    ]);
  });

  it('keeps every indexed message: role-less ones, smolagents roles, legacy function calls', () => {
    const span = mapSpanAttributes({
      'openinference.span.kind': 'LLM',
      'llm.input_messages.0.message.role': 'system',
      'llm.input_messages.0.message.content': 'Be brief.',
      'llm.input_messages.1.message.contents.0.message_content.type': 'text',
      'llm.input_messages.1.message.contents.0.message_content.text': 'a message written without a role',
      'llm.input_messages.2.message.role': 'assistant',
      'llm.input_messages.2.message.function_call_name': 'lookup',
      'llm.input_messages.2.message.function_call_arguments_json': '{"q":"refund"}',
      'llm.input_messages.3.message.role': 'function',
      'llm.input_messages.3.message.name': 'lookup',
      'llm.input_messages.3.message.content': 'Refunds take 5 days.',
    });
    assert.deepEqual(span.inputMessages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'a message written without a role', sourceRole: '' },
      { role: 'assistant', content: null, tool_calls: [{ name: 'lookup', arguments: { q: 'refund' } }] },
      { role: 'tool', content: 'Refunds take 5 days.', name: 'lookup', sourceRole: 'function' },
    ]);
    assert.deepEqual(span.attributes, {}, 'every key became a message field');
  });

  it('reads completion-API prompts in both OpenInference forms as user messages', () => {
    const indexed = mapSpanAttributes({
      'openinference.span.kind': 'LLM',
      'llm.prompts.0.prompt.text': 'Translate to French: cheese',
      'llm.prompts.1.prompt.text': 'Translate to French: bread',
    });
    assert.deepEqual(indexed.inputMessages, [
      { role: 'user', content: 'Translate to French: cheese' },
      { role: 'user', content: 'Translate to French: bread' },
    ]);
    assert.deepEqual(indexed.attributes, {});
    const flat = mapSpanAttributes({ 'openinference.span.kind': 'LLM', 'llm.prompts': ['Say hi'] });
    assert.deepEqual(flat.inputMessages, [{ role: 'user', content: 'Say hi' }]);
  });

  it('a tool result inside a user turn becomes a tool message that remembers the turn', () => {
    const got = decode([
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ]);
    assert.deepEqual(got, [
      { role: 'tool', content: 'sunny', tool_call_id: 'toolu_1', sourceRole: 'user' },
      { role: 'user', content: 'And tomorrow?' },
    ]);
  });

  it('reads a GenAI tool response under "response" or "result"', () => {
    const got = decode([
      {
        role: 'tool',
        parts: [
          { type: 'tool_call_response', id: 'a', response: { ok: true } },
          { type: 'tool_call_response', id: 'b', result: 'done' },
        ],
      },
    ]);
    assert.deepEqual(got, [
      { role: 'tool', content: '{"ok":true}', tool_call_id: 'a' },
      { role: 'tool', content: 'done', tool_call_id: 'b' },
    ]);
  });

  it('shows provider-side tool calls as calls and results, keeping the raw attribute', () => {
    const decoded = messagesFromJson(
      JSON.stringify([
        {
          role: 'assistant',
          parts: [
            {
              type: 'server_tool_call',
              id: 'ws_1',
              name: 'web_search',
              server_tool_call: { type: 'web_search', query: 'otel' },
            },
            {
              type: 'server_tool_call_response',
              id: 'ws_1',
              server_tool_call_response: { type: 'web_search', results: 3 },
            },
            { type: 'text', content: 'Found three pages.' },
          ],
        },
      ]),
    )!;
    assert.deepEqual(decoded.messages, [
      {
        role: 'assistant',
        content: 'Found three pages.',
        tool_calls: [{ id: 'ws_1', name: 'web_search', arguments: { type: 'web_search', query: 'otel' } }],
      },
      {
        role: 'tool',
        content: '{"type":"web_search","results":3}',
        tool_call_id: 'ws_1',
        sourceRole: 'assistant',
      },
    ]);
    assert.equal(decoded.lossy, true);
  });

  it('source role names survive export in both conventions', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'Be brief.', sourceRole: 'developer' },
      { role: 'user', content: 'no role', sourceRole: '' },
      {
        role: 'assistant',
        content: null,
        sourceRole: 'tool-call',
        tool_calls: [{ id: 'call_1', name: 'python_interpreter', arguments: { code: 'print(1)' } }],
      },
      { role: 'tool', content: 'Observation:\n1', tool_call_id: 'call_1', sourceRole: 'tool-response' },
      { role: 'tool', content: 'sunny', tool_call_id: 'toolu_1', sourceRole: 'user' },
    ];
    // GenAI requires a role: the one message that had none comes back with its nearest.
    assert.deepEqual(
      messagesFromJson(encodeGenAiMessages(messages))!.messages,
      messages.map((m) => (m.sourceRole === '' ? { role: m.role, content: m.content } : m)),
    );
    const span = mapSpanAttributes({
      'openinference.span.kind': 'LLM',
      ...encodeOpenInferenceMessages('llm.input_messages', messages),
    });
    assert.deepEqual(span.inputMessages, messages);
  });
});

describe('framework message shapes', () => {
  it('reads LangChain messages in to_json, message_to_dict, model_dump and tuple form', () => {
    const got = decode([
      {
        lc: 1,
        type: 'constructor',
        id: ['langchain', 'schema', 'messages', 'SystemMessage'],
        kwargs: { content: 'Be brief.', type: 'system' },
      },
      ['human', 'hi'],
      {
        type: 'ai',
        data: {
          content: '',
          tool_calls: [{ name: 'search', args: { q: 'x' }, id: 'c9', type: 'tool_call' }],
        },
      },
      { content: 'result', type: 'tool', tool_call_id: 'c9', name: 'search' },
      {
        lc: 1,
        type: 'constructor',
        id: ['langchain', 'schema', 'messages', 'ChatMessage'],
        kwargs: { content: 'A note', role: 'critic' },
      },
      {
        lc: 1,
        type: 'constructor',
        id: ['langchain', 'schema', 'messages', 'RemoveMessage'],
        kwargs: { id: 'm1' },
      },
    ]);
    assert.deepEqual(got, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi', sourceRole: 'human' },
      {
        role: 'assistant',
        content: '',
        sourceRole: 'ai',
        tool_calls: [{ id: 'c9', name: 'search', arguments: { q: 'x' } }],
      },
      { role: 'tool', content: 'result', tool_call_id: 'c9', name: 'search' },
      { role: 'user', content: 'A note', sourceRole: 'critic' },
      { role: 'user', content: null, sourceRole: 'remove' },
    ]);
  });

  it('reads OpenAI Responses input items, keeping a reasoning item as a message', () => {
    const decoded = messagesFromJson(
      JSON.stringify([
        { role: 'user', content: 'Weather in Oslo?' },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Need the tool.' }] },
        { type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '-3°C' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'It is -3°C.' }] },
      ]),
    )!;
    assert.deepEqual(decoded.messages, [
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: null },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', name: 'weather', arguments: { city: 'Oslo' } }],
      },
      { role: 'tool', content: '-3°C', tool_call_id: 'call_1' },
      { role: 'assistant', content: 'It is -3°C.' },
    ]);
    assert.equal(decoded.lossy, true, 'the reasoning text has no field, so the raw value is kept');
  });

  it('reads a message list in Python repr, as the deprecated gen_ai.prompt example writes it', () => {
    assert.deepEqual(
      messagesFromJson("[{'role': 'user', 'content': 'What is the capital of France?'}]")!.messages,
      [{ role: 'user', content: 'What is the capital of France?' }],
    );
    assert.deepEqual(completionFromJson("[{'role': 'assistant', 'content': 'Paris.'}]")!.messages, [
      { role: 'assistant', content: 'Paris.' },
    ]);
  });

  it('does not take an arbitrary JSON list for a conversation', () => {
    assert.equal(messagesFromJson('[{"id": 1, "score": 0.4}]'), undefined);
    assert.equal(messagesFromJson('["plain", "strings"]'), undefined);
  });
});

describe('Python literals', () => {
  it('parses what repr() writes for plain data', () => {
    assert.deepEqual(
      parsePythonLiteral(
        "[{'id': 'call_1', 'n': -2.5e3, 'ok': True, 'none': None, 'q': \"it's\", 't': (1, 2), 'u': '\\u00e9\\n\\\\'}]",
      ),
      [{ id: 'call_1', n: -2500, ok: true, none: null, q: "it's", t: [1, 2], u: 'é\n\\' }],
    );
  });

  it('refuses what is not plain data, and nesting past its bound', () => {
    assert.equal(parsePythonLiteral("[{'image': <PIL.Image.Image mode=RGB>}]"), undefined);
    assert.equal(parsePythonLiteral("{'a': 1} trailing"), undefined);
    assert.equal(parsePythonLiteral("{'a': 'unterminated}"), undefined);
    assert.equal(parsePythonLiteral('['.repeat(100) + ']'.repeat(100)), undefined);
    assert.deepEqual(parsePythonLiteral('['.repeat(10) + ']'.repeat(10)), [[[[[[[[[[]]]]]]]]]]);
  });
});

describe('smolagents steps', () => {
  it('reads the step roles in an enum repr spelling too', () => {
    const got = decode([
      {
        role: 'MessageRole.TOOL_CALL',
        content:
          "Calling tools:\n[{'id': 'c7', 'type': 'function', 'function': {'name': 'f', 'arguments': {}}}]",
      },
      { role: 'MessageRole.TOOL_RESPONSE', content: 'Observation:\nok' },
    ]);
    assert.deepEqual(
      got.map((m) => [m.role, m.sourceRole, m.tool_calls?.[0]?.id ?? m.tool_call_id]),
      [
        ['assistant', 'MessageRole.TOOL_CALL', 'c7'],
        ['tool', 'MessageRole.TOOL_RESPONSE', 'c7'],
      ],
    );
  });

  it('turns a tool-call message into calls and links the error that answers it', () => {
    const calls = toolCallsFromText(
      "Calling tools:\n[{'id': 'call_2', 'type': 'function', 'function': {'name': 'python_interpreter', 'arguments': 'x = 1 / 0'}}]",
    );
    assert.deepEqual(calls, [{ id: 'call_2', name: 'python_interpreter', arguments: { code: 'x = 1 / 0' } }]);
    const linked = linkSmolagentsSteps([
      { role: 'assistant', content: null, sourceRole: 'tool-call', tool_calls: calls },
      { role: 'tool', content: 'Call id: call_2\nError:\nZeroDivisionError', sourceRole: 'tool-response' },
    ]);
    assert.equal(linked[1]!.tool_call_id, 'call_2');
  });

  it('leaves an observation unlinked when the step made parallel calls, and unparseable text as text', () => {
    const two =
      "Calling tools:\n[{'id': 'a', 'type': 'function', 'function': {'name': 'f', 'arguments': {}}}, {'id': 'b', 'type': 'function', 'function': {'name': 'g', 'arguments': {'x': 1}}}]";
    const linked = linkSmolagentsSteps([
      { role: 'assistant', content: two, sourceRole: 'tool-call' },
      { role: 'tool', content: 'Observation:\nboth done', sourceRole: 'tool-response' },
      { role: 'assistant', content: 'Calling tools:\n[<object at 0x7f>]', sourceRole: 'tool-call' },
    ]);
    assert.deepEqual(
      linked[0]!.tool_calls!.map((c) => [c.id, c.name, c.arguments]),
      [
        ['a', 'f', {}],
        ['b', 'g', { x: 1 }],
      ],
    );
    assert.equal(linked[1]!.tool_call_id, undefined);
    assert.equal(linked[2]!.content, 'Calling tools:\n[<object at 0x7f>]');
    assert.equal(linked[2]!.tool_calls, undefined);
  });
});

describe('tool arguments', () => {
  it('unwraps a call wrapper into named arguments', () => {
    const wrapper = callWrapperOf({
      args: ['Paris', 'metric'],
      kwargs: { days: 3 },
      sanitize_inputs_outputs: true,
    })!;
    assert.deepEqual(unwrapCall(wrapper, ['city', 'days', 'units']), {
      city: 'Paris',
      units: 'metric',
      days: 3,
    });
    assert.deepEqual(unwrapCall(wrapper, undefined), { days: 3, _args: ['Paris', 'metric'] });
    assert.deepEqual(unwrapCall({ args: [{ city: 'Oslo' }], kwargs: {} }, ['city']), { city: 'Oslo' });
    assert.equal(
      callWrapperOf({ args: [1], kwargs: {}, extra: true }),
      undefined,
      'a tool parameter named args',
    );
    assert.equal(callWrapperOf({ args: 'x' }), undefined);
  });

  it('reads parameter names from every schema shape', () => {
    const jsonSchema = { type: 'object', properties: { a: {}, b: {} } };
    assert.deepEqual(parameterNamesOf(jsonSchema), ['a', 'b']);
    assert.deepEqual(
      parameterNamesOf({ type: 'function', function: { name: 'f', parameters: jsonSchema } }),
      ['a', 'b'],
    );
    assert.deepEqual(parameterNamesOf({ name: 'f', parameters: jsonSchema }), ['a', 'b']);
    assert.deepEqual(parameterNamesOf({ query: { type: 'string', description: 'q' } }), ['query']);
    assert.equal(parameterNamesOf({ query: 'string' }), undefined);
  });

  it('names positional values from a tool definition seen on another span, and only then', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const base: SpanInput = { spanId: 'x', startTime: at, endTime: at, latencyMs: 0 };
    const llm = SpanSchema.parse({
      ...base,
      spanId: 'llm',
      kind: 'llm',
      attributes: {
        'llm.tools.0.tool.json_schema': JSON.stringify({
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: {}, unit: {} } },
          },
        }),
      },
    });
    const raw = JSON.stringify({ args: ['Oslo'], kwargs: { unit: 'C' } });
    const mapped = mapSpanAttributes({
      'openinference.span.kind': 'TOOL',
      'tool.name': 'get_weather',
      'input.value': raw,
    });
    assert.deepEqual(mapped.tool!.arguments, { unit: 'C', _args: ['Oslo'] });
    const tool: Span = SpanSchema.parse({
      ...base,
      spanId: 'tool',
      kind: 'tool',
      tool: mapped.tool,
      input: mapped.input,
    });
    const named = nameToolArguments([llm, tool]);
    assert.deepEqual(named[1]!.tool!.arguments, { city: 'Oslo', unit: 'C' });
    assert.deepEqual(nameToolArguments(named), named, 'naming again changes nothing');
    assert.deepEqual(nameToolArguments([tool])[0]!.tool!.arguments, { unit: 'C', _args: ['Oslo'] });
  });
});

describe('deprecated GenAI events', () => {
  it('reads per-message events with plain attributes as well as a JSON body', () => {
    const got = messagesFromGenAiEvents([
      { name: 'gen_ai.user.message', attributes: { content: 'hi', role: 'customer' } },
      { name: 'exception', attributes: { 'exception.message': 'unrelated' } },
      {
        name: 'gen_ai.choice',
        attributes: { 'gen_ai.event.content': '{"index":0,"message":{"content":"hello"}}' },
      },
    ]);
    assert.deepEqual(got, {
      input: [{ role: 'user', content: 'hi', sourceRole: 'customer' }],
      output: [{ role: 'assistant', content: 'hello' }],
    });
    assert.deepEqual(messagesFromGenAiEvents([{ name: 'exception', attributes: {} }]), {});
    const details = messagesFromGenAiEvents([
      {
        name: 'gen_ai.client.inference.operation.details',
        attributes: {
          'gen_ai.system_instructions': '[{"type":"text","content":"Be brief."}]',
          'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]',
          'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"hello"}]}]',
        },
      },
    ]);
    assert.deepEqual(details, {
      input: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      output: [{ role: 'assistant', content: 'hello' }],
    });
  });
});

describe('trace input and output', () => {
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)).toISOString();
  const span = (s: Partial<SpanInput> & { spanId: string; start: number; end: number }): Span => {
    const { start, end, ...rest } = s;
    return SpanSchema.parse({ startTime: at(start), endTime: at(end), latencyMs: end - start, ...rest });
  };

  it('come from the root agent span when no model call ran inside it', () => {
    const trace = assembleTrace({
      traceId: 't1',
      agent: 'a',
      resource: {},
      spans: [
        span({
          spanId: 'root',
          kind: 'agent',
          start: 0,
          end: 10,
          input: 'Cancel order 7',
          output: 'Cancelled.',
        }),
        span({
          spanId: 'tool',
          parentSpanId: 'root',
          kind: 'tool',
          start: 1,
          end: 2,
          tool: { name: 'cancel' },
        }),
      ],
    });
    assert.deepEqual(trace.input.messages, [{ role: 'user', content: 'Cancel order 7' }]);
    assert.deepEqual(trace.output, { action: 'respond', arguments: {}, content: 'Cancelled.' });
  });

  it("fall back to the run's output when its last model call recorded no answer", () => {
    const trace = assembleTrace({
      traceId: 't4',
      agent: 'a',
      resource: {},
      spans: [
        span({ spanId: 'root', kind: 'agent', start: 0, end: 10, input: 'Hi', output: 'Hello there.' }),
        span({
          spanId: 'llm',
          parentSpanId: 'root',
          kind: 'llm',
          start: 1,
          end: 9,
          status: 'error',
          inputMessages: [{ role: 'user', content: 'Hi' }],
        }),
      ],
    });
    assert.deepEqual(trace.input.messages, [{ role: 'user', content: 'Hi' }]);
    assert.deepEqual(trace.output, { action: 'respond', arguments: {}, content: 'Hello there.' });
  });

  it('read a chain root whose input is the conversation (LangGraph state)', () => {
    const trace = assembleTrace({
      traceId: 't2',
      agent: 'a',
      resource: {},
      spans: [
        span({
          spanId: 'root',
          kind: 'chain',
          start: 0,
          end: 10,
          input: JSON.stringify({ messages: [['user', 'hi'], { type: 'ai', data: { content: 'hello' } }] }),
          output: 'hello',
        }),
      ],
    });
    assert.deepEqual(trace.input.messages, [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello', sourceRole: 'ai' },
    ]);
  });

  it('skip a model call made after the agent run, and one in a sibling branch', () => {
    const llm = (spanId: string, parentSpanId: string, start: number, text: string) =>
      span({
        spanId,
        parentSpanId,
        kind: 'llm',
        start,
        end: start + 1,
        inputMessages: [{ role: 'user', content: `to ${spanId}` }],
        outputMessages: [{ role: 'assistant', content: text }],
      });
    const trace = assembleTrace({
      traceId: 't3',
      agent: 'a',
      resource: {},
      spans: [
        span({ spanId: 'app', kind: 'chain', start: 0, end: 20 }),
        span({ spanId: 'run', parentSpanId: 'app', kind: 'agent', start: 1, end: 10 }),
        llm('inside', 'run', 2, 'the agent answer'),
        llm('after', 'app', 12, 'a summary of it'),
      ],
    });
    assert.deepEqual(trace.input.messages, [{ role: 'user', content: 'to inside' }]);
    assert.equal(trace.output.content, 'the agent answer');
  });
});
