import type { ChatMessage, Span } from '../schemas/trace.js';

/**
 * The stored form of a trace's spans. Instrumentations record the whole conversation on
 * every LLM span, so a 26-message agent trajectory repeats its system prompt and history
 * on each of its ~13 LLM spans: about 10× the conversation itself. Storing each distinct
 * message once per trace and referring to it by index keeps the row near the size of the
 * conversation, which is what lets bulk ingest and the weekly sample stay cheap.
 *
 * Version 2 goes one step further: the trace's `input` column holds the decision's
 * conversation, which is most of the spans' messages, so those are not stored a second
 * time. Index `i < fromInput` is `input.messages[i]`, a larger one `messages[i - fromInput]`.
 * Storing the conversation twice made PostgreSQL compress it twice (pglz was ~60 % of its
 * CPU in bulk ingest). Version 1 rows (every message in `messages`) are still read.
 */
export interface StoredSpans {
  v: 1 | 2;
  /** Version 2: how many leading indexes refer to the row's `input.messages`. */
  fromInput?: number;
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
 * in another column too can cache. With `input` (the messages the row's `input` column
 * stores, in its order) those messages are referred to there instead of stored again.
 */
export function compactSpans(
  spans: readonly Span[],
  messageJson: MessageJson = (message) => JSON.stringify(message),
  input: readonly ChatMessage[] = [],
): string {
  if (spans.length === 0) return '{}';
  // Every message the indexes can name: the input's first, then the spans' own.
  const messages: ChatMessage[] = [];
  const byObject = new Map<ChatMessage, number>();
  const byContent = new Map<string | null, number[]>();
  const add = (message: ChatMessage): number => {
    const index = messages.length;
    messages.push(message);
    const same = byContent.get(message.content);
    if (same) same.push(index);
    else byContent.set(message.content, [index]);
    return index;
  };
  for (const message of input) byObject.set(message, add(message));
  let previous: { list: readonly ChatMessage[]; refs: number[] } | undefined;
  const indexOf = (message: ChatMessage, position: number): number => {
    let index = byObject.get(message);
    if (index !== undefined) return index;
    const before = previous?.list[position];
    if (before !== undefined && sameMessage(before, message)) index = previous?.refs[position];
    if (index === undefined) {
      index = byContent.get(message.content)?.find((i) => sameMessage(messages[i] as ChatMessage, message));
      if (index === undefined) index = add(message);
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
  const own = messages.slice(input.length).map(messageJson).join(',');
  const head = input.length > 0 ? `{"v":2,"fromInput":${input.length},` : '{"v":1,';
  return `${head}"messages":[${own}],"spans":${JSON.stringify(stored)}}`;
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

/**
 * The spans of a stored row. A version 2 form refers to the messages of the row's `input`
 * column (`{messages: [...]}`), which the caller reads with it.
 */
export function expandSpans(stored: unknown, input?: unknown): Span[] {
  if (!isStoredSpans(stored)) return [];
  const fromInput = stored.v === 2 ? (stored.fromInput ?? 0) : 0;
  const inputMessages = fromInput > 0 ? messagesOf(input) : [];
  if (inputMessages.length < fromInput)
    throw new Error(
      `Stored spans refer to ${fromInput} messages of the trace's input, which holds ${inputMessages.length}.`,
    );
  const at = (i: number): ChatMessage => {
    const message = i < fromInput ? inputMessages[i] : stored.messages[i - fromInput];
    if (!message) throw new Error(`Stored spans refer to message ${i}, which is missing.`);
    return message;
  };
  return stored.spans.map(({ inputMessages: inputRefs, outputMessages: outputRefs, ...rest }) => {
    const span: Span = rest;
    if (inputRefs) span.inputMessages = inputRefs.map(at);
    if (outputRefs) span.outputMessages = outputRefs.map(at);
    return span;
  });
}

function messagesOf(input: unknown): ChatMessage[] {
  const messages = (input as { messages?: unknown } | null | undefined)?.messages;
  return Array.isArray(messages) ? (messages as ChatMessage[]) : [];
}

function isStoredSpans(value: unknown): value is StoredSpans {
  return (
    typeof value === 'object' &&
    value !== null &&
    ((value as { v?: unknown }).v === 1 || (value as { v?: unknown }).v === 2) &&
    Array.isArray((value as { spans?: unknown }).spans)
  );
}
