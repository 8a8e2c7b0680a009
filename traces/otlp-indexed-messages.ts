import type { ChatMessage } from '../schemas/trace.js';
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

/**
 * Splits `<index>.<rest>` (the `^(\d+)\.(.+)$` pattern) without a regular expression: an
 * LLM span carries its whole conversation as such keys, so this runs thousands of times
 * per request.
 */
function splitIndexed(text: string, from: number): { index: number; rest: string } | undefined {
  let end = from;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (c < 48 || c > 57) break;
    end += 1;
  }
  if (end === from || end + 1 >= text.length || text.charCodeAt(end) !== 46) return undefined;
  const rest = text.slice(end + 1);
  if (LINE_TERMINATOR.test(rest)) return undefined;
  return { index: Number(text.slice(from, end)), rest };
}

function groupByIndex(attrs: Record<string, unknown>, prefix: string): Map<number, Fields> {
  const groups = new Map<number, Fields>();
  const head = `${prefix}.`;
  for (const key of Object.keys(attrs)) {
    if (!key.startsWith(head)) continue;
    const split = splitIndexed(key, head.length);
    if (!split) continue;
    const fields = groups.get(split.index) ?? new Map<string, { key: string; value: unknown }>();
    fields.set(split.rest, { key, value: attrs[key] });
    groups.set(split.index, fields);
  }
  return groups;
}

/** Flattened indexed messages; only the keys that became message fields are reported consumed. */
export function readIndexedMessages(
  attrs: Record<string, unknown>,
  prefix: string,
  layout: IndexedLayout,
): { messages: ChatMessage[]; consumed: string[] } | undefined {
  const groups = groupByIndex(attrs, prefix);
  if (groups.size === 0) return undefined;
  const messages: ChatMessage[] = [];
  const consumed: string[] = [];
  for (const index of [...groups.keys()].sort((a, b) => a - b)) {
    const fields = new Map<string, { key: string; value: unknown }>();
    for (const [sub, entry] of groups.get(index)!) {
      if (sub.startsWith(layout.message)) fields.set(sub.slice(layout.message.length), entry);
    }
    // A group with no message keys at all belongs to another convention sharing the prefix.
    if (fields.size === 0) continue;
    const used: string[] = [];
    const take = (sub: string): string | undefined => {
      const entry = fields.get(sub);
      if (!entry || typeof entry.value !== 'string') return undefined;
      used.push(entry.key);
      return entry.value;
    };
    const sourceRole = take('role');
    const content = take(layout.text ?? 'content');
    let text: string | null = content ?? null;
    if (text === null && layout.contents) {
      const texts = readList(fields, layout.contents.list, (item) => {
        const type = item.get(layout.contents!.type);
        const part = item.get(layout.contents!.text);
        if (typeof part?.value !== 'string' || (type !== undefined && type.value !== 'text'))
          return undefined;
        return { value: part.value, keys: [part.key, ...(type ? [type.key] : [])] };
      });
      if (texts.values.length > 0) text = texts.values.join('\n');
      used.push(...texts.keys);
    }
    const name = take('name');
    const toolCallId = take('tool_call_id');
    const { toolCalls } = layout;
    const calls = readList(fields, toolCalls.list, (item) => {
      const nameEntry = item.get(toolCalls.name);
      const call = toolCallOf(
        item.get(toolCalls.id)?.value,
        nameEntry?.value,
        item.get(toolCalls.arguments)?.value,
      );
      if (!call) return undefined;
      const keys = [toolCalls.id, toolCalls.name, toolCalls.arguments].flatMap((f) => item.get(f)?.key ?? []);
      return { value: call, keys };
    });
    used.push(...calls.keys);
    const legacy = layout.functionCall;
    const legacyName = legacy ? fields.get(legacy.name) : undefined;
    if (legacy && legacyName) {
      const args = fields.get(legacy.arguments);
      const call = toolCallOf(undefined, legacyName.value, args?.value);
      if (call) {
        calls.values.push(call);
        used.push(legacyName.key, ...(args ? [args.key] : []));
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
    consumed.push(...used);
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
