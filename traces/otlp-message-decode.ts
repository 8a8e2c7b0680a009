import type { ChatMessage, ToolCall } from '../schemas/trace.js';
import { chatShapeOf } from './message-shapes.js';
import { resolveRole } from './message-roles.js';
import { linkSmolagentsSteps } from './smolagents-steps.js';
import { parsePythonLiteral } from './python-literal.js';

/**
 * Chat messages from the shapes instrumentations write them in: GenAI `parts`, OpenAI
 * chat (`content` string or part list, `tool_calls`), Anthropic blocks (`tool_use`,
 * `tool_result`), LangChain and OpenAI Responses shapes (see message-shapes.ts), and the
 * flattened indexed keys of OpenInference and OpenLLMetry. Every source message becomes a
 * message, whatever its role or lack of one (see message-roles.ts). `lossy` reports content
 * the normalized message cannot hold (images, reasoning), so the caller keeps the raw
 * attribute next to the messages.
 */

export interface DecodedMessages {
  messages: ChatMessage[];
  lossy: boolean;
}

/** smolagents step messages become tool calls and results; other lists are returned as they are. */
function withSteps(messages: ChatMessage[]): ChatMessage[] {
  const smol = messages.some((m) => m.sourceRole === 'tool-call' || m.sourceRole === 'tool-response');
  return smol ? linkSmolagentsSteps(messages) : messages;
}

/** JSON text parsed, other values as they are; undefined for a string that is not JSON. */
export function parseJsonish(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * JSON, or else the Python repr of a list or dict: Python instrumentations that write
 * `str(messages)` produce it, and the deprecated `gen_ai.prompt` attribute's own example
 * in the semantic conventions is in that form.
 */
function parseStructured(value: unknown): unknown {
  const parsed = parseJsonish(value);
  if (parsed !== undefined || typeof value !== 'string') return parsed;
  const head = value.trimStart()[0];
  return head === '[' || head === '{' ? parsePythonLiteral(value) : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Tool arguments must be an object; anything else is kept verbatim under `_raw`. */
export function parseToolArguments(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {};
  if (isRecord(value)) return value;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const parsed = parseJsonish(text);
  return isRecord(parsed) ? parsed : { _raw: text };
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function textOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function toolCallOf(id: unknown, name: unknown, args: unknown): ToolCall | undefined {
  if (typeof name !== 'string' || name === '') return undefined;
  const call: ToolCall = { name, arguments: parseToolArguments(args) };
  if (typeof id === 'string' && id !== '') call.id = id;
  return call;
}

function openAiToolCall(raw: unknown): ToolCall | undefined {
  if (!isRecord(raw)) return undefined;
  const fn = isRecord(raw.function) ? raw.function : raw;
  return toolCallOf(raw.id, fn.name, fn.arguments);
}

/** One source message can become several: tool results inside a user turn become `tool` messages. */
function messageFromJson(value: unknown): DecodedMessages | undefined {
  const raw = chatShapeOf(value);
  if (!raw) return undefined;
  let lossy = false;
  const texts: string[] = [];
  const calls: ToolCall[] = [];
  const results: ChatMessage[] = [];
  // Results of calls made in this same message follow it, as the calls came first.
  const serverResults: ChatMessage[] = [];
  let hasContent = false;

  const parts: unknown[] | undefined = Array.isArray(raw.parts)
    ? raw.parts
    : Array.isArray(raw.content)
      ? raw.content
      : undefined;
  if (parts) {
    for (const part of parts) {
      if (typeof part === 'string') {
        texts.push(part);
        continue;
      }
      if (!isRecord(part)) {
        lossy = true;
        continue;
      }
      const text = stringOf(part.content) ?? stringOf(part.text);
      if (TEXT_PARTS.has(String(part.type)) && text !== undefined) texts.push(text);
      else if (part.type === 'refusal' && typeof part.refusal === 'string') texts.push(part.refusal);
      else if (part.type === 'tool_call' || part.type === 'tool_use') {
        const call = toolCallOf(part.id, part.name, part.type === 'tool_call' ? part.arguments : part.input);
        if (call) calls.push(call);
        else lossy = true;
      } else if (part.type === 'tool_call_response' || part.type === 'tool_result') {
        const id = stringOf(part.id) ?? stringOf(part.tool_use_id);
        // The GenAI schema names the body `response`; its own examples and some SDKs say `result`.
        const body =
          part.type === 'tool_call_response'
            ? part.response !== undefined
              ? part.response
              : part.result
            : part.content;
        const nested = Array.isArray(body) ? messageFromJson({ role: 'tool', content: body }) : undefined;
        const content = nested ? (nested.messages[0]?.content ?? null) : textOf(body);
        const result: ChatMessage = { role: 'tool', content };
        if (id !== undefined) result.tool_call_id = id;
        results.push(result);
      } else if (part.type === 'server_tool_call' || part.type === 'server_tool_call_response') {
        // A provider-side tool (web search, code interpreter) is a step the agent took, so it is
        // shown as a call and its result; that it ran at the provider has no field, so the raw
        // attribute stays too.
        lossy = true;
        if (part.type === 'server_tool_call') {
          const call = toolCallOf(part.id, part.name, part.server_tool_call ?? part.arguments);
          if (call) calls.push(call);
        } else {
          const result: ChatMessage = { role: 'tool', content: textOf(part.server_tool_call_response) };
          const id = stringOf(part.id);
          if (id !== undefined) result.tool_call_id = id;
          serverResults.push(result);
        }
      } else lossy = true;
    }
  } else if (typeof raw.content === 'string') {
    texts.push(raw.content);
    hasContent = true;
  } else if (raw.content !== undefined && raw.content !== null) {
    // A tool output or content object that is not text is kept as its JSON.
    texts.push(JSON.stringify(raw.content));
    hasContent = true;
  }
  if (Array.isArray(raw.tool_calls)) {
    for (const c of raw.tool_calls) {
      const call = openAiToolCall(c);
      if (call) calls.push(call);
      else lossy = true;
    }
  }
  const legacyCall = openAiToolCall(raw.function_call);
  if (legacyCall) calls.push(legacyCall);

  const { role, sourceRole } = resolveRole(raw.role, {
    toolCalls: calls.length > 0,
    toolCallId: typeof raw.tool_call_id === 'string',
  });
  const main: ChatMessage = { role, content: texts.length > 0 || hasContent ? texts.join('\n') : null };
  if (typeof raw.name === 'string') {
    main.name = raw.name;
    if (role === 'tool') for (const r of results) r.name = raw.name;
  }
  if (typeof raw.tool_call_id === 'string') main.tool_call_id = raw.tool_call_id;
  if (calls.length > 0) main.tool_calls = calls;
  if (sourceRole !== undefined) main.sourceRole = sourceRole;
  // A result split out of another turn (an Anthropic user message) keeps that turn's role name.
  const resultRole = typeof raw.role === 'string' ? raw.role : '';
  for (const r of [...results, ...serverResults]) if (resultRole !== 'tool') r.sourceRole = resultRole;
  if (results.length > 0 && main.content === null && !main.tool_calls) return { messages: results, lossy };
  return { messages: [...results, main, ...serverResults], lossy };
}

/** Part types whose text is the message's text (GenAI, Anthropic, OpenAI Responses). */
const TEXT_PARTS = new Set(['text', 'input_text', 'output_text']);

/** A JSON message list, bare or as the `messages` of a request body. */
export function messagesFromJson(value: unknown): DecodedMessages | undefined {
  const parsed = parseStructured(value);
  const list = Array.isArray(parsed) ? parsed : isRecord(parsed) ? parsed.messages : undefined;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const out: DecodedMessages = { messages: [], lossy: false };
  for (const raw of list) {
    // Some SDKs write a string array attribute, one JSON message per element.
    const decoded = messageFromJson(parseJsonish(raw));
    if (!decoded) return undefined;
    out.messages.push(...decoded.messages);
    out.lossy ||= decoded.lossy;
  }
  out.messages = withSteps(out.messages);
  return out;
}

/**
 * What a model returned: `{text, finish_reason}` (the deprecated `gen_ai.completion` and
 * OpenInference `output.value` of completion APIs), an OpenAI response with `choices`,
 * one message, or a message list.
 */
export function completionFromJson(value: unknown): DecodedMessages | undefined {
  const parsed = parseStructured(value);
  if (isRecord(parsed)) {
    if (typeof parsed.text === 'string' && parsed.role === undefined) {
      return { messages: [{ role: 'assistant', content: parsed.text }], lossy: false };
    }
    if (Array.isArray(parsed.choices)) {
      const out: DecodedMessages = { messages: [], lossy: false };
      for (const choice of parsed.choices) {
        if (!isRecord(choice)) return undefined;
        const decoded =
          typeof choice.text === 'string'
            ? { messages: [{ role: 'assistant' as const, content: choice.text }], lossy: false }
            : messageFromJson(choice.message);
        if (!decoded) return undefined;
        out.messages.push(...decoded.messages);
        out.lossy ||= decoded.lossy;
      }
      return out.messages.length > 0 ? out : undefined;
    }
    if (parsed.role !== undefined) return messageFromJson(parsed);
  }
  return messagesFromJson(parsed);
}

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
