import type { ChatMessage } from '../schemas/trace.js';

/**
 * The role names agent frameworks write, each mapped to the nearest of the four roles every
 * model API understands. A message is never dropped for its role: an unknown name, or no
 * role at all, still becomes a message, and the source's name is kept in `sourceRole`.
 *
 * Where the names come from:
 * - OpenAI chat: system, developer (o-series system prompts), user, assistant, tool, function.
 * - OTel GenAI: system, user, assistant, tool; deprecated events allow any "actual role".
 * - LangChain message types (OpenLLMetry writes them as `gen_ai.prompt.N.role` after mapping,
 *   older versions and LangGraph state keep them): human, ai, system, tool, function,
 *   chat (a ChatMessage with a custom role), remove (a LangGraph RemoveMessage).
 * - smolagents MessageRole: system, user, assistant, tool-call, tool-response.
 * - LlamaIndex MessageRole: system, developer, user, assistant, function, tool, chatbot, model.
 * - Google Gemini: user, model, function; Cohere: SYSTEM, USER, CHATBOT, TOOL; Meta Llama:
 *   ipython (tool output).
 */

export type Role = ChatMessage['role'];

const nearest: Record<string, Role> = {
  system: 'system',
  developer: 'system',
  instruction: 'system',
  instructions: 'system',
  user: 'user',
  human: 'user',
  customer: 'user',
  assistant: 'assistant',
  ai: 'assistant',
  model: 'assistant',
  bot: 'assistant',
  chatbot: 'assistant',
  agent: 'assistant',
  'tool-call': 'assistant',
  tool: 'tool',
  function: 'tool',
  ipython: 'tool',
  'tool-response': 'tool',
  'tool-result': 'tool',
  observation: 'tool',
};

/**
 * A role name in one spelling: lower case, `_` as `-`, and an enum's repr reduced to its
 * member (`MessageRole.TOOL_CALL`, which `str()` of a Python enum gives, is `tool-call`).
 */
export function roleWord(name: string): string {
  const member = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name;
  return member.toLowerCase().replaceAll('_', '-');
}

/** The nearest role of a known name (any spelling), or undefined for a name this table does not know. */
export function knownRole(name: string): Role | undefined {
  return nearest[name] ?? nearest[roleWord(name)];
}

/**
 * A message's role from the source's role value. Unknown names and missing roles are read
 * from what the message carries: tool calls make it the assistant's, a tool-call id makes it
 * a tool result, and anything else is text that came from outside the model, the user's.
 */
export function resolveRole(
  source: unknown,
  carries: { toolCalls: boolean; toolCallId: boolean },
): { role: Role; sourceRole?: string } {
  const name = typeof source === 'string' ? source : '';
  const known = name === '' ? undefined : knownRole(name);
  const inferred: Role = carries.toolCalls ? 'assistant' : carries.toolCallId ? 'tool' : 'user';
  // A user turn that answers a tool call is a tool result (Anthropic puts results in user turns).
  const role: Role = known === 'user' && carries.toolCallId ? 'tool' : (known ?? inferred);
  return name === role ? { role } : { role, sourceRole: name };
}

/** The role to write on export: the source's own name when there was one. */
export function exportedRole(message: ChatMessage): string | undefined {
  if (message.sourceRole === undefined) return message.role;
  return message.sourceRole === '' ? undefined : message.sourceRole;
}
