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

/** The JSON text of a message; callers pass a cache when the same objects recur across columns. */
export type MessageJson = (message: ChatMessage) => string;

/**
 * The stored form as JSON text. Distinct messages meet by their JSON text: importers share
 * message objects between spans, so identity answers most lookups, and equal messages
 * built separately (OTLP) serialize alike. A writer that stores the conversation in
 * another column too passes a caching `messageJson`, so each message is serialized once
 * per row; V8 caches a string's hash, so a system prompt on every span is hashed once.
 */
export function compactSpans(
  spans: readonly Span[],
  messageJson: MessageJson = (message) => JSON.stringify(message),
): string {
  if (spans.length === 0) return '{}';
  const messages: string[] = [];
  const byObject = new Map<ChatMessage, number>();
  const byText = new Map<string, number>();
  const refs = (list: readonly ChatMessage[] | undefined): number[] | undefined =>
    list?.map((message) => {
      let index = byObject.get(message);
      if (index !== undefined) return index;
      const text = messageJson(message);
      index = byText.get(text);
      if (index === undefined) {
        index = messages.length;
        messages.push(text);
        byText.set(text, index);
      }
      byObject.set(message, index);
      return index;
    });
  const stored = spans.map(({ inputMessages, outputMessages, ...rest }) => {
    const span: StoredSpan = rest;
    const input = refs(inputMessages);
    const output = refs(outputMessages);
    if (input) span.inputMessages = input;
    if (output) span.outputMessages = output;
    return span;
  });
  return `{"v":1,"messages":[${messages.join(',')}],"spans":${JSON.stringify(stored)}}`;
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
