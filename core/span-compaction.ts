import type { ChatMessage, Span } from '../schemas/trace.js';

/**
 * The stored form of a trace's spans. Instrumentations record the whole conversation on
 * every LLM span, so a 26-message agent trajectory repeats its system prompt and history
 * on each of its ~13 LLM spans: about 10× the conversation itself. Storing each distinct
 * message once per trace and referring to it by index keeps the row near the size of the
 * conversation, which is what lets bulk ingest and the weekly sample stay cheap.
 */
export interface StoredSpans {
  v: 1;
  messages: ChatMessage[];
  spans: StoredSpan[];
}

type StoredSpan = Omit<Span, 'inputMessages' | 'outputMessages'> & {
  inputMessages?: number[];
  outputMessages?: number[];
};

export function compactSpans(spans: readonly Span[]): StoredSpans | Record<string, never> {
  if (spans.length === 0) return {};
  const messages: ChatMessage[] = [];
  // Importers share message objects between spans, so identity answers many lookups.
  // Equal messages built separately (OTLP) meet by their content string: V8 caches a
  // string's hash, so a system prompt repeated on every span is hashed once.
  const byObject = new Map<ChatMessage, number>();
  const byContent = new Map<string | null, number[]>();
  const refs = (list: readonly ChatMessage[] | undefined): number[] | undefined =>
    list?.map((message) => {
      let index = byObject.get(message);
      if (index !== undefined) return index;
      const same = byContent.get(message.content) ?? [];
      index = same.find((i) => sameMessage(messages[i] as ChatMessage, message));
      if (index === undefined) {
        index = messages.length;
        messages.push(message);
        same.push(index);
        byContent.set(message.content, same);
      }
      byObject.set(message, index);
      return index;
    });
  return {
    v: 1,
    messages,
    spans: spans.map(({ inputMessages, outputMessages, ...rest }) => {
      const stored: StoredSpan = rest;
      const input = refs(inputMessages);
      const output = refs(outputMessages);
      if (input) stored.inputMessages = input;
      if (output) stored.outputMessages = output;
      return stored;
    }),
  };
}

function sameMessage(a: ChatMessage, b: ChatMessage): boolean {
  return (
    a.role === b.role &&
    a.content === b.content &&
    a.name === b.name &&
    a.tool_call_id === b.tool_call_id &&
    (a.tool_calls === b.tool_calls || JSON.stringify(a.tool_calls) === JSON.stringify(b.tool_calls))
  );
}

export function expandSpans(stored: unknown): Span[] {
  if (!isStoredSpans(stored)) return [];
  const at = (i: number): ChatMessage => {
    const message = stored.messages[i];
    if (!message) throw new Error(`Stored spans refer to message ${i}, which is missing.`);
    return message;
  };
  return stored.spans.map(({ inputMessages, outputMessages, ...rest }) => {
    const span: Span = rest;
    if (inputMessages) span.inputMessages = inputMessages.map(at);
    if (outputMessages) span.outputMessages = outputMessages.map(at);
    return span;
  });
}

function isStoredSpans(value: unknown): value is StoredSpans {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { v?: unknown }).v === 1 &&
    Array.isArray((value as { spans?: unknown }).spans)
  );
}
