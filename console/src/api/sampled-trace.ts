import type { AgentAction, ChatMessage } from './types.js';

/**
 * The redacted sample a queue item carries (`input`, `output`) is stored JSON the API
 * passes through untyped: read it defensively, so an odd trace shows what it has rather
 * than breaking the page.
 */
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

export function sampledMessages(input: unknown): ChatMessage[] {
  if (!isObject(input) || !Array.isArray(input.messages)) return [];
  return input.messages.filter(isObject).map((m) => ({
    role: (typeof m.role === 'string' && ROLES.has(m.role) ? m.role : 'user') as ChatMessage['role'],
    content: typeof m.content === 'string' ? m.content : null,
    ...(typeof m.name === 'string' ? { name: m.name } : {}),
    ...(typeof m.tool_call_id === 'string' ? { tool_call_id: m.tool_call_id } : {}),
    ...(typeof m.sourceRole === 'string' ? { sourceRole: m.sourceRole } : {}),
    ...(Array.isArray(m.tool_calls)
      ? {
          tool_calls: m.tool_calls.filter(isObject).map((c) => ({
            ...(typeof c.id === 'string' ? { id: c.id } : {}),
            name: typeof c.name === 'string' ? c.name : '(unnamed tool)',
            arguments: isObject(c.arguments) ? c.arguments : {},
          })),
        }
      : {}),
  }));
}

export function sampledAction(output: unknown): AgentAction | null {
  if (!isObject(output) || typeof output.action !== 'string') return null;
  return {
    action: output.action,
    arguments: isObject(output.arguments) ? output.arguments : {},
    ...(typeof output.content === 'string' ? { content: output.content } : {}),
  };
}

/** The tools a conversation shows (called or offered), for the expected-step field's suggestions. */
export function toolNames(messages: ChatMessage[], step: AgentAction | null): string[] {
  const names = new Set<string>();
  for (const m of messages) for (const c of m.tool_calls ?? []) names.add(c.name);
  if (step && step.action !== 'respond') names.add(step.action);
  return [...names].sort();
}

/**
 * Tool arguments written as `name: value` lines (no JSON to type): a value that reads as a
 * number, true/false or null becomes one, a list or object shown from the agent's call stays
 * one, a value in double quotes is the text inside them; anything else is text.
 */
export function parseArgumentLines(text: string): { args: Record<string, unknown>; error?: string } {
  const args: Record<string, unknown> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const at = line.indexOf(':');
    if (at <= 0) return { args, error: `Line ${i + 1} needs the form "name: value".` };
    const key = line.slice(0, at).trim();
    const value = line.slice(at + 1).trim();
    args[key] = argumentValue(value);
  }
  return { args };
}

function argumentValue(value: string): unknown {
  // In double quotes a value stays text: `zip: "02139"` is the string, not a number.
  if (/^".*"$/.test(value))
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  if (value === 'null') return null;
  // A list or an object the agent sent (shown as it was) reads back as itself.
  if (/^[[{]/.test(value))
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  return value;
}

/**
 * The inverse of parseArgumentLines, to start the field from the agent's own arguments: text
 * that would read back as something else (`"123"`, `"true"`) is written in double quotes.
 */
export const argumentLines = (args: Record<string, unknown>): string =>
  Object.entries(args)
    .map(([k, v]) => {
      const plain = typeof v === 'string' && !v.includes('\n') && argumentValue(v.trim()) === v;
      return `${k}: ${plain ? v : JSON.stringify(v)}`;
    })
    .join('\n');
