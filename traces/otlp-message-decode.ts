import type { ChatMessage, ToolCall } from '../schemas/trace.js';
import { chatShapeOf } from './message-shapes.js';
import { resolveRole } from './message-roles.js';
import { isStepRole, linkSmolagentsSteps } from './smolagents-steps.js';
import { parsePythonLiteral } from './python-literal.js';

/**
 * Chat messages from the shapes instrumentations write them in: GenAI `parts`, OpenAI
 * chat (`content` string or part list, `tool_calls`), Anthropic blocks (`tool_use`,
 * `tool_result`), LangChain and OpenAI Responses shapes (see message-shapes.ts); the
 * flattened indexed keys of OpenInference and OpenLLMetry are read by
 * otlp-indexed-messages.ts with the helpers here. Every source message becomes a
 * message, whatever its role or lack of one (see message-roles.ts). `lossy` reports content
 * the normalized message cannot hold (images, reasoning), so the caller keeps the raw
 * attribute next to the messages.
 */

export interface DecodedMessages {
  messages: ChatMessage[];
  lossy: boolean;
}

/** smolagents step messages become tool calls and results; other lists are returned as they are. */
export function withSteps(messages: ChatMessage[]): ChatMessage[] {
  const smol = messages.some((m) => isStepRole(m.sourceRole));
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

export function toolCallOf(id: unknown, name: unknown, args: unknown): ToolCall | undefined {
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
