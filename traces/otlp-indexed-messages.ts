import type { ChatMessage, ToolCall } from '../schemas/trace.js';
import { resolveRole } from './message-roles.js';
import { parseJsonish, toolCallOf, withSteps, type DecodedMessages } from './otlp-message-decode.js';

/**
 * Messages written as flattened indexed attributes, one key per field:
 * `llm.input_messages.3.message.tool_calls.0.tool_call.function.name` (OpenInference),
 * `gen_ai.prompt.3.tool_calls.0.name` (OpenLLMetry), `llm.prompts.0.prompt.text`. A message
 * is every index that has any key under the layout's message prefix, with a role or without.
 */

/** Where the fields of one message sit under `<prefix>.<index>.` in a flattened layout. */
export interface IndexedLayout {
  message: string;
  contents?: { list: string; type: string; text: string };
  toolCalls: { list: string; id: string; name: string; arguments: string };
  /** The single legacy OpenAI `function_call` of a message, written as two keys. */
  functionCall?: { name: string; arguments: string };
  /** The key of the message text, `content` unless said otherwise. */
  text?: string;
  /** A layout whose entries have no roles at all (completion prompts) gives them this one. */
  impliedRole?: ChatMessage['role'];
}

export const openInferenceLayout: IndexedLayout = {
  message: 'message.',
  contents: { list: 'contents', type: 'message_content.type', text: 'message_content.text' },
  toolCalls: {
    list: 'tool_calls',
    id: 'tool_call.id',
    name: 'tool_call.function.name',
    arguments: 'tool_call.function.arguments',
  },
  functionCall: { name: 'function_call_name', arguments: 'function_call_arguments_json' },
};

/** OpenInference's completion-API prompts, `llm.prompts.N.prompt.text`: the user's text. */
export const openInferencePromptsLayout: IndexedLayout = {
  message: 'prompt.',
  text: 'text',
  toolCalls: { list: 'tool_calls', id: 'id', name: 'name', arguments: 'arguments' },
  impliedRole: 'user',
};

/** The older flat form of `llm.prompts`: a list of prompt strings. */
export function promptsFromList(value: unknown): DecodedMessages | undefined {
  const list = parseJsonish(value);
  if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === 'string'))
    return undefined;
  return { messages: list.map((content: string) => ({ role: 'user' as const, content })), lossy: false };
}

export const openLlmetryLayout: IndexedLayout = {
  message: '',
  toolCalls: { list: 'tool_calls', id: 'id', name: 'name', arguments: 'arguments' },
  functionCall: { name: 'function_call.name', arguments: 'function_call.arguments' },
};

type Fields = Map<string, { key: string; value: unknown }>;

/** Line terminators, which `.` in `^(\d+)\.(.+)$` does not match. */
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/** Where `<index>.` ends in `text` from `from` (the `^(\d+)\.` of the pattern), or -1. */
function indexEnd(text: string, from: number): number {
  let end = from;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (c < 48 || c > 57) break;
    end += 1;
  }
  return end === from || end + 1 >= text.length || text.charCodeAt(end) !== 46 ? -1 : end;
}

/** Whether `text` from `from` on holds no line terminator (what `.+` matches). */
function singleLine(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) return false;
  }
  return true;
}

/**
 * Splits `<index>.<rest>` (the `^(\d+)\.(.+)$` pattern) without a regular expression: an
 * LLM span carries its whole conversation as such keys, so this runs thousands of times
 * per request.
 */
function splitIndexed(text: string, from: number): { index: number; rest: string } | undefined {
  const end = indexEnd(text, from);
  if (end < 0) return undefined;
  const rest = text.slice(end + 1);
  if (LINE_TERMINATOR.test(rest)) return undefined;
  return { index: Number(text.slice(from, end)), rest };
}

/**
 * The keys `<prefix>.<index>.<message><field>`, grouped by index with `<field>` as the key:
 * one pass and one slice per key. An index with no key under the layout's message prefix
 * (another convention sharing the prefix) has no group.
 */
function groupByIndex(
  attrs: Record<string, unknown>,
  keys: readonly string[],
  prefix: string,
  message: string,
): Map<number, Fields> {
  const groups = new Map<number, Fields>();
  const head = `${prefix}.`;
  for (const key of keys) {
    if (!key.startsWith(head)) continue;
    const end = indexEnd(key, head.length);
    if (end < 0 || !key.startsWith(message, end + 1) || !singleLine(key, end + 1)) continue;
    const index = Number(key.slice(head.length, end));
    let fields = groups.get(index);
    if (fields === undefined) {
      fields = new Map();
      groups.set(index, fields);
    }
    fields.set(key.slice(end + 1 + message.length), { key, value: attrs[key] });
  }
  return groups;
}

/** A field's text, its key noted in `used`; undefined when absent or not a string. */
function takeText(fields: Fields, sub: string, used: string[]): string | undefined {
  const entry = fields.get(sub);
  if (!entry || typeof entry.value !== 'string') return undefined;
  used.push(entry.key);
  return entry.value;
}

/** Readers of one layout's list items, made once per call rather than once per message. */
function itemReaders(layout: IndexedLayout) {
  const { contents, toolCalls } = layout;
  const contentText = (item: Fields): { value: string; keys: string[] } | undefined => {
    const type = item.get(contents!.type);
    const part = item.get(contents!.text);
    if (typeof part?.value !== 'string' || (type !== undefined && type.value !== 'text')) return undefined;
    return { value: part.value, keys: type ? [part.key, type.key] : [part.key] };
  };
  const toolCall = (item: Fields): { value: ToolCall; keys: string[] } | undefined => {
    const id = item.get(toolCalls.id);
    const name = item.get(toolCalls.name);
    const args = item.get(toolCalls.arguments);
    const call = toolCallOf(id?.value, name?.value, args?.value);
    if (!call) return undefined;
    const keys: string[] = [];
    for (const entry of [id, name, args]) if (entry) keys.push(entry.key);
    return { value: call, keys };
  };
  return { contentText, toolCall };
}

/**
 * Flattened indexed messages; only the keys that became message fields are reported consumed.
 * `keys` are the attributes' keys when the caller has them: an LLM span holds hundreds, and
 * listing them again for each of the five prefixes tried was a tenth of the API's time.
 */
export function readIndexedMessages(
  attrs: Record<string, unknown>,
  prefix: string,
  layout: IndexedLayout,
  keys: readonly string[] = Object.keys(attrs),
): { messages: ChatMessage[]; consumed: string[] } | undefined {
  const groups = groupByIndex(attrs, keys, prefix, layout.message);
  if (groups.size === 0) return undefined;
  const { contentText, toolCall } = itemReaders(layout);
  const messages: ChatMessage[] = [];
  const consumed: string[] = [];
  const indexes = [...groups.keys()].sort((a, b) => a - b);
  for (const index of indexes) {
    const fields = groups.get(index)!;
    const used = consumed;
    const sourceRole = takeText(fields, 'role', used);
    const content = takeText(fields, layout.text ?? 'content', used);
    let text: string | null = content ?? null;
    if (text === null && layout.contents) {
      const texts = readList(fields, layout.contents.list, contentText);
      if (texts.values.length > 0) text = texts.values.join('\n');
      for (const key of texts.keys) used.push(key);
    }
    const name = takeText(fields, 'name', used);
    const toolCallId = takeText(fields, 'tool_call_id', used);
    const calls = readList(fields, layout.toolCalls.list, toolCall);
    for (const key of calls.keys) used.push(key);
    const legacy = layout.functionCall;
    const legacyName = legacy ? fields.get(legacy.name) : undefined;
    if (legacy && legacyName) {
      const args = fields.get(legacy.arguments);
      const call = toolCallOf(undefined, legacyName.value, args?.value);
      if (call) {
        calls.values.push(call);
        used.push(legacyName.key);
        if (args) used.push(args.key);
      }
    }
    const resolved =
      sourceRole === undefined && layout.impliedRole
        ? { role: layout.impliedRole }
        : resolveRole(sourceRole, {
            toolCalls: calls.values.length > 0,
            toolCallId: toolCallId !== undefined,
          });
    const message: ChatMessage = { role: resolved.role, content: text };
    if (name !== undefined) message.name = name;
    if (toolCallId !== undefined) message.tool_call_id = toolCallId;
    if (calls.values.length > 0) message.tool_calls = calls.values;
    if (resolved.sourceRole !== undefined) message.sourceRole = resolved.sourceRole;
    messages.push(message);
  }
  return messages.length > 0 ? { messages: withSteps(messages), consumed } : undefined;
}

function readList<T>(
  fields: Fields,
  list: string,
  read: (item: Fields) => { value: T; keys: string[] } | undefined,
): { values: T[]; keys: string[] } {
  const items = new Map<number, Fields>();
  const head = `${list}.`;
  for (const [sub, entry] of fields) {
    if (!sub.startsWith(head)) continue;
    const split = splitIndexed(sub, head.length);
    if (!split) continue;
    const item = items.get(split.index) ?? new Map<string, { key: string; value: unknown }>();
    item.set(split.rest, entry);
    items.set(split.index, item);
  }
  const out: { values: T[]; keys: string[] } = { values: [], keys: [] };
  for (const index of [...items.keys()].sort((a, b) => a - b)) {
    const got = read(items.get(index)!);
    if (!got) continue;
    out.values.push(got.value);
    out.keys.push(...got.keys);
  }
  return out;
}
