import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compactSpans, expandSpans } from '../../traces/span-compaction.js';
import type { ChatMessage, Span } from '../../schemas/trace.js';

const system: ChatMessage = { role: 'system', content: 'You are an airline agent.' };
const user: ChatMessage = { role: 'user', content: 'Cancel my booking ABC123.' };
const call: ChatMessage = {
  role: 'assistant',
  content: null,
  tool_calls: [{ id: 'c1', name: 'cancel', arguments: { id: 'ABC123' } }],
};
const result: ChatMessage = { role: 'tool', content: 'cancelled', tool_call_id: 'c1' };
const reply: ChatMessage = { role: 'assistant', content: 'Done: ABC123 is cancelled.' };

const span = (id: string, fields: Partial<Span> = {}): Span => ({
  spanId: id,
  parentSpanId: id === 'root' ? null : 'root',
  name: id,
  kind: 'llm',
  startTime: '2026-12-01T00:00:00.000000001Z',
  endTime: '2026-12-01T00:00:01Z',
  latencyMs: 999.999999,
  status: 'ok',
  attributes: {},
  ...fields,
});

/** An LLM span per step, each repeating the conversation so far, as instrumentations record it. */
const spans: Span[] = [
  span('root', { kind: 'agent' }),
  span('llm-1', { inputMessages: [system, user], outputMessages: [call] }),
  span('tool-1', { kind: 'tool', tool: { name: 'cancel', callId: 'c1', arguments: { id: 'ABC123' } } }),
  // Decoded separately (OTLP): equal messages that are other objects.
  span('llm-2', {
    inputMessages: [system, user, call, result].map((m) => structuredClone(m)),
    outputMessages: [reply],
    events: [{ name: 'exception', time: '2026-12-01T00:00:00.5Z', attributes: { 'exception.type': 'E' } }],
  }),
];
const input = [system, user, call, result];

const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('stored span form', () => {
  it('refers to the messages of the trace input instead of storing them again, and expands back exactly', () => {
    const stored = JSON.parse(compactSpans(spans, undefined, input)) as { v: number; messages: unknown[] };
    assert.equal(stored.v, 2);
    // Only the reply is not in the input.
    assert.deepEqual(stored.messages, [reply]);
    assert.deepEqual(plain(expandSpans(stored, { messages: plain(input) })), plain(spans));
  });

  it('keeps every message when there is no input to refer to, as version 1 did', () => {
    const stored = JSON.parse(compactSpans(spans)) as { v: number; messages: unknown[] };
    assert.equal(stored.v, 1);
    assert.equal(stored.messages.length, 5);
    assert.deepEqual(plain(expandSpans(stored)), plain(spans));
  });

  it('reads rows written in version 1 whatever input is passed', () => {
    const v1: unknown = JSON.parse(compactSpans(spans));
    assert.deepEqual(plain(expandSpans(v1, { messages: [reply] })), plain(spans));
  });

  it('refuses a version 2 row whose input lacks the messages it refers to', () => {
    const stored: unknown = JSON.parse(compactSpans(spans, undefined, input));
    assert.throws(
      () => expandSpans(stored, { messages: [system] }),
      /refer to 4 messages of the trace's input/,
    );
  });

  it('an input message repeated word for word is referred to consistently', () => {
    const again: ChatMessage = { role: 'user', content: 'yes' };
    const withRepeat = [system, again, { ...again }];
    const repeated = [
      span('llm', { inputMessages: withRepeat.map((m) => ({ ...m })), outputMessages: [reply] }),
    ];
    const stored: unknown = JSON.parse(compactSpans(repeated, undefined, withRepeat));
    assert.deepEqual(plain(expandSpans(stored, { messages: plain(withRepeat) })), plain(repeated));
  });
});
