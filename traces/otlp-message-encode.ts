import type { ChatMessage } from '../schemas/trace.js';
import { exportedRole } from './message-roles.js';
import { isRecord, parseJsonish } from './otlp-message-decode.js';

/**
 * Normalized messages in each convention's attribute shape, written so that the decoder
 * reads back exactly what was written: a null `content` is omitted (the decoder reads a
 * missing content as null) and an empty string is kept. The role written is the source's
 * own name (`sourceRole`) when it had one; a message that had no role is written without
 * one in OpenInference, and with its nearest role in GenAI, whose schema requires a role.
 */

/** `{_raw}` holds arguments that were not a JSON object; they go back out verbatim. */
export function encodeToolArguments(args: Record<string, unknown>): string {
  const keys = Object.keys(args);
  if (keys.length === 1 && keys[0] === '_raw' && typeof args._raw === 'string') {
    if (!isRecord(parseJsonish(args._raw))) return args._raw;
  }
  return JSON.stringify(args);
}

export function encodeOpenInferenceMessages(
  prefix: string,
  messages: readonly ChatMessage[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  messages.forEach((m, i) => {
    const at = `${prefix}.${i}.message.`;
    const role = exportedRole(m);
    if (role !== undefined) out[`${at}role`] = role;
    if (m.content !== null) out[`${at}content`] = m.content;
    if (m.name !== undefined) out[`${at}name`] = m.name;
    if (m.tool_call_id !== undefined) out[`${at}tool_call_id`] = m.tool_call_id;
    (m.tool_calls ?? []).forEach((call, k) => {
      const callAt = `${at}tool_calls.${k}.tool_call.`;
      if (call.id !== undefined) out[`${callAt}id`] = call.id;
      out[`${callAt}function.name`] = call.name;
      out[`${callAt}function.arguments`] = encodeToolArguments(call.arguments);
    });
  });
  return out;
}

type GenAiPart =
  | { type: 'text'; content: string }
  | { type: 'tool_call'; id?: string; name: string; arguments: unknown }
  | { type: 'tool_call_response'; id: string; response: string | null };

interface GenAiMessage {
  role: string;
  parts: GenAiPart[];
  name?: string;
  tool_call_id?: string;
}

/** GenAI requires a role (any string): a message that had none gets its nearest one. */
function genAiRole(m: ChatMessage): string {
  return exportedRole(m) ?? m.role;
}

function genAiMessage(m: ChatMessage): GenAiMessage {
  if (m.role === 'tool' && m.tool_call_id !== undefined && !m.tool_calls) {
    const out: GenAiMessage = {
      role: genAiRole(m),
      parts: [{ type: 'tool_call_response', id: m.tool_call_id, response: m.content }],
    };
    if (m.name !== undefined) out.name = m.name;
    return out;
  }
  const parts: GenAiPart[] = [];
  if (m.content !== null) parts.push({ type: 'text', content: m.content });
  for (const call of m.tool_calls ?? []) {
    const encoded = encodeToolArguments(call.arguments);
    const args = isRecord(parseJsonish(encoded)) ? call.arguments : encoded;
    parts.push(
      call.id !== undefined
        ? { type: 'tool_call', id: call.id, name: call.name, arguments: args }
        : { type: 'tool_call', name: call.name, arguments: args },
    );
  }
  const out: GenAiMessage = { role: genAiRole(m), parts };
  if (m.name !== undefined) out.name = m.name;
  if (m.tool_call_id !== undefined) out.tool_call_id = m.tool_call_id;
  return out;
}

/** The JSON string form of `gen_ai.input.messages` / `gen_ai.output.messages`. */
export function encodeGenAiMessages(messages: readonly ChatMessage[]): string {
  return JSON.stringify(messages.map(genAiMessage));
}
