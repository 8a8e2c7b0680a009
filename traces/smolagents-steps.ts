import type { ChatMessage, ToolCall } from '../schemas/trace.js';
import { roleWord } from './message-roles.js';
import { parsePythonLiteral } from './python-literal.js';

/**
 * smolagents replays an agent's memory to the model as messages with its own roles: each
 * action step becomes an assistant message (the model's thought and code), a `tool-call`
 * message whose text is "Calling tools:\n" followed by Python's repr of the calls, and a
 * `tool-response` message with the observation ("Call id: …\nObservation:\n…" in versions
 * before mid-2025, "Observation:\n…" since, "…Error:\n…" when the step failed). A CodeAgent's
 * code runs as a call to `python_interpreter` whose arguments are the code itself.
 *
 * Turned into tool calls and tool results with their ids, these steps are what the judge
 * and reviewers read as the agent's actions; left as text they were two opaque messages.
 */

const CALLING_TOOLS = /^Calling tools:\s*\n/;
const CALL_ID = /^Call id:\s*(\S+)\s*\n/;

/** Whether a source role is one of smolagents' step roles, in any spelling. */
export function isStepRole(sourceRole: string | undefined): boolean {
  if (sourceRole === undefined) return false;
  const word = roleWord(sourceRole);
  return word === 'tool-call' || word === 'tool-response';
}

/** smolagents' code-execution tool takes its one input under this name. */
const CODE_TOOL = 'python_interpreter';

function callOf(raw: unknown): ToolCall | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const fn = (typeof r.function === 'object' && r.function !== null ? r.function : r) as Record<
    string,
    unknown
  >;
  const name = fn.name;
  if (typeof name !== 'string' || name === '') return undefined;
  const args = fn.arguments;
  let named: Record<string, unknown>;
  if (typeof args === 'object' && args !== null && !Array.isArray(args)) {
    named = args as Record<string, unknown>;
  } else if (typeof args === 'string') {
    const parsed = parseJsonObject(args);
    named = parsed ?? (name === CODE_TOOL ? { code: args } : { _raw: args });
  } else if (args === undefined || args === null) named = {};
  else named = { _raw: JSON.stringify(args) };
  const call: ToolCall = { name, arguments: named };
  if (typeof r.id === 'string' && r.id !== '') call.id = r.id;
  return call;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The calls written in a `tool-call` message's text, or undefined when it is not that text. */
export function toolCallsFromText(text: string): ToolCall[] | undefined {
  const head = CALLING_TOOLS.exec(text);
  if (!head) return undefined;
  const body = text.slice(head[0].length).trim();
  const parsed = parsePythonLiteral(body) ?? parseJsonList(body);
  if (!Array.isArray(parsed) || parsed.length === 0) return undefined;
  const calls = parsed.map(callOf);
  return calls.every((c): c is ToolCall => c !== undefined) ? calls : undefined;
}

function parseJsonList(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Rewrites smolagents step messages in place of the list: a `tool-call` message whose text
 * parses becomes an assistant message carrying the calls (its text is then represented by
 * them), and a `tool-response` gets the id of the call it answers, from its "Call id" line
 * or, when the step made exactly one call, from the `tool-call` message just before it.
 * Other messages pass through untouched.
 */
export function linkSmolagentsSteps(messages: ChatMessage[]): ChatMessage[] {
  let previousCalls: ToolCall[] | undefined;
  return messages.map((m) => {
    const word = m.sourceRole === undefined ? undefined : roleWord(m.sourceRole);
    if (word === 'tool-call') {
      if (!m.tool_calls && typeof m.content === 'string') {
        const calls = toolCallsFromText(m.content);
        if (calls) {
          previousCalls = calls;
          return { ...m, content: null, tool_calls: calls };
        }
      }
      previousCalls = m.tool_calls;
      return m;
    }
    if (word === 'tool-response') {
      const answered = previousCalls;
      previousCalls = undefined;
      if (m.tool_call_id !== undefined || typeof m.content !== 'string') return m;
      const id = CALL_ID.exec(m.content)?.[1] ?? (answered?.length === 1 ? answered[0]!.id : undefined);
      return id === undefined ? m : { ...m, tool_call_id: id };
    }
    if (m.role !== 'assistant') previousCalls = undefined;
    return m;
  });
}
