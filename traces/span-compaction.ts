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
 * The stored form as JSON text. Importers share message objects between spans, so identity
 * answers most lookups. Messages built separately (OTLP) are first compared with the one
 * at the same position of the previous span's input, since each LLM span repeats the
 * conversation so far, and otherwise meet by their content string. Each distinct message
 * is serialized once, through `messageJson`, which a writer that stores the conversation
 * in another column too can cache.
 */
export function compactSpans(
  spans: readonly Span[],
  messageJson: MessageJson = (message) => JSON.stringify(message),
): string {
  if (spans.length === 0) return '{}';
  const messages: ChatMessage[] = [];
  const byObject = new Map<ChatMessage, number>();
  const byContent = new Map<string | null, number[]>();
  let previous: { list: readonly ChatMessage[]; refs: number[] } | undefined;
  const indexOf = (message: ChatMessage, position: number): number => {
    let index = byObject.get(message);
    if (index !== undefined) return index;
    const before = previous?.list[position];
    if (before !== undefined && sameMessage(before, message)) index = previous?.refs[position];
    if (index === undefined) {
      const same = byContent.get(message.content) ?? [];
      index = same.find((i) => sameMessage(messages[i] as ChatMessage, message));
      if (index === undefined) {
        index = messages.length;
        messages.push(message);
        same.push(index);
        byContent.set(message.content, same);
      }
    }
    byObject.set(message, index);
    return index;
  };
  const stored = spans.map(({ inputMessages, outputMessages, ...rest }) => {
    const span: StoredSpan = rest;
    if (inputMessages) {
      span.inputMessages = inputMessages.map(indexOf);
      previous = { list: inputMessages, refs: span.inputMessages };
    }
    if (outputMessages) span.outputMessages = outputMessages.map((m) => indexOf(m, -1));
    return span;
  });
  return `{"v":1,"messages":[${messages.map(messageJson).join(',')}],"spans":${JSON.stringify(stored)}}`;
}

function sameMessage(a: ChatMessage, b: ChatMessage): boolean {
  return (
    a === b ||
    (a.role === b.role &&
      a.content === b.content &&
      a.name === b.name &&
      a.tool_call_id === b.tool_call_id &&
      a.sourceRole === b.sourceRole &&
      sameJson(a.tool_calls, b.tool_calls))
  );
}

/** Deep equality of JSON values (key order aside, which jsonb does not keep anyway). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every(
    (k) =>
      Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
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
