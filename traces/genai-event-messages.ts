import type { ChatMessage } from '../schemas/trace.js';
import { completionFromJson, isRecord, messagesFromJson, parseJsonish } from './otlp-message-decode.js';
import { resolveRole } from './message-roles.js';

/**
 * The conversation of an LLM span recorded as span events, in the two deprecated GenAI
 * forms: semantic conventions 1.26–1.27 put the whole prompt and completion on
 * `gen_ai.content.prompt` / `gen_ai.content.completion` events (attributes `gen_ai.prompt`,
 * `gen_ai.completion`); later drafts wrote one event per message (`gen_ai.system.message`,
 * `gen_ai.user.message`, `gen_ai.assistant.message`, `gen_ai.tool.message`, and
 * `gen_ai.choice` for the answer), whose body — a log record's body when sent as logs —
 * span-event emitters such as the Azure AI Inference SDK carry as JSON in the
 * `gen_ai.event.content` attribute, or as plain attributes. The current conventions' single
 * `gen_ai.client.inference.operation.details` event carries `gen_ai.input.messages`,
 * `gen_ai.output.messages` and `gen_ai.system_instructions` as its attributes.
 *
 * The events themselves stay on the span untouched; this only reads messages out of them.
 */

export interface EventLike {
  name: string;
  attributes: Record<string, unknown>;
}

const MESSAGE_EVENTS: Record<string, ChatMessage['role']> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
};

function bodyOf(event: EventLike): Record<string, unknown> {
  const body = parseJsonish(event.attributes['gen_ai.event.content']);
  return isRecord(body) ? body : event.attributes;
}

/** One per-message event as messages; its role is the event's unless the body names another. */
function messageOfEvent(role: ChatMessage['role'], body: Record<string, unknown>): ChatMessage[] {
  const shaped: Record<string, unknown> = {
    role: typeof body.role === 'string' ? body.role : role,
    content: body.content ?? null,
  };
  if (Array.isArray(body.tool_calls)) shaped.tool_calls = body.tool_calls;
  // The tool message's body names the call it answers `id`.
  if (role === 'tool' && typeof body.id === 'string') shaped.tool_call_id = body.id;
  const decoded = messagesFromJson([shaped]);
  if (decoded) return decoded.messages;
  const { role: resolved, sourceRole } = resolveRole(shaped.role, { toolCalls: false, toolCallId: false });
  const text = typeof body.content === 'string' ? body.content : JSON.stringify(body.content ?? null);
  return [{ role: resolved, content: text, ...(sourceRole === undefined ? {} : { sourceRole }) }];
}

export function messagesFromGenAiEvents(events: readonly EventLike[]): {
  input?: ChatMessage[];
  output?: ChatMessage[];
} {
  const input: ChatMessage[] = [];
  const output: ChatMessage[] = [];
  for (const event of events) {
    if (event.name === 'gen_ai.content.prompt') {
      const value = event.attributes['gen_ai.prompt'];
      const decoded = messagesFromJson(value);
      if (decoded) input.push(...decoded.messages);
      else if (typeof value === 'string' && value !== '') input.push({ role: 'user', content: value });
    } else if (event.name === 'gen_ai.content.completion') {
      const value = event.attributes['gen_ai.completion'];
      const decoded = completionFromJson(value);
      if (decoded) output.push(...decoded.messages);
      else if (typeof value === 'string' && value !== '') output.push({ role: 'assistant', content: value });
    } else if (event.name === 'gen_ai.client.inference.operation.details') {
      // The current conventions' one event per call carries the span's own message attributes.
      const system = event.attributes['gen_ai.system_instructions'];
      const parts = parseJsonish(system);
      const instructions = Array.isArray(parts)
        ? messagesFromJson([{ role: 'system', parts }])
        : typeof system === 'string' && system !== ''
          ? { messages: [{ role: 'system' as const, content: system }] }
          : undefined;
      const inputs = messagesFromJson(event.attributes['gen_ai.input.messages']);
      const outputs = messagesFromJson(event.attributes['gen_ai.output.messages']);
      if (instructions) input.push(...instructions.messages);
      if (inputs) input.push(...inputs.messages);
      if (outputs) output.push(...outputs.messages);
    } else if (event.name in MESSAGE_EVENTS) {
      input.push(...messageOfEvent(MESSAGE_EVENTS[event.name]!, bodyOf(event)));
    } else if (event.name === 'gen_ai.choice') {
      const body = bodyOf(event);
      const message = isRecord(body.message) ? body.message : body;
      output.push(...messageOfEvent('assistant', message));
    }
  }
  return {
    ...(input.length > 0 ? { input } : {}),
    ...(output.length > 0 ? { output } : {}),
  };
}
