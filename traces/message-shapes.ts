/**
 * Message objects that frameworks serialize in shapes other than OpenAI chat, rewritten into
 * that shape (`role`, `content` or `parts`, `tool_calls`, `tool_call_id`, `name`) so one
 * decoder reads them all. The source's own role word is kept as the role, so the decoder
 * still records it in `sourceRole`.
 *
 * - LangChain `message_to_dict`: `{type: "human", data: {content, tool_calls, ...}}`, which
 *   OpenInference writes for LangGraph state in a chain's input/output value.
 * - LangChain `to_json`: `{lc: 1, type: "constructor", id: [..., "AIMessage"], kwargs: {...}}`.
 * - LangChain `model_dump`: the fields at the top level with `type` instead of `role`.
 * - LangChain message tuples: `["user", "text"]`.
 * - OpenAI Responses input items (the OpenAI Agents SDK): `function_call`,
 *   `function_call_output`, `custom_tool_call(_output)`, `reasoning`, and role-less
 *   `{type: "message", role, content: [{type: "input_text", text}]}`.
 */

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const LANGCHAIN_TYPES = new Set(['human', 'ai', 'system', 'tool', 'function', 'chat', 'remove']);

/** LangChain class names in a `to_json` id path, to their message type. */
const LANGCHAIN_CLASSES: Record<string, string> = {
  HumanMessage: 'human',
  HumanMessageChunk: 'human',
  AIMessage: 'ai',
  AIMessageChunk: 'ai',
  SystemMessage: 'system',
  SystemMessageChunk: 'system',
  ToolMessage: 'tool',
  ToolMessageChunk: 'tool',
  FunctionMessage: 'function',
  FunctionMessageChunk: 'function',
  ChatMessage: 'chat',
  ChatMessageChunk: 'chat',
  RemoveMessage: 'remove',
};

/** LangChain's tool call `{name, args, id}` in OpenAI's `{id, function: {name, arguments}}`. */
function langchainToolCalls(value: unknown): unknown[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const list: unknown[] = value;
  return list.map((c): unknown =>
    isRecord(c) && !isRecord(c.function) && 'args' in c
      ? { id: c.id, function: { name: c.name, arguments: c.args } }
      : c,
  );
}

/** The fields of one LangChain message (its `data`, `kwargs` or top level) as a chat message. */
function fromLangchain(type: string, fields: Json): Json {
  const extra = isRecord(fields.additional_kwargs) ? fields.additional_kwargs : {};
  // A ChatMessage carries its custom role; every other class's type is its role word.
  const role = type === 'chat' && typeof fields.role === 'string' ? fields.role : type;
  const out: Json = { role, content: fields.content ?? null };
  const calls = langchainToolCalls(fields.tool_calls) ?? langchainToolCalls(extra.tool_calls);
  if (calls) out.tool_calls = calls;
  if (isRecord(extra.function_call)) out.function_call = extra.function_call;
  if (typeof fields.tool_call_id === 'string') out.tool_call_id = fields.tool_call_id;
  if (typeof fields.name === 'string') out.name = fields.name;
  return out;
}

function responsesItem(item: Json): Json | undefined {
  switch (item.type) {
    case 'function_call':
    case 'custom_tool_call':
      return {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: item.call_id ?? item.id,
            function: { name: item.name, arguments: item.arguments ?? item.input },
          },
        ],
      };
    case 'function_call_output':
    case 'custom_tool_call_output':
      return { role: 'tool', tool_call_id: item.call_id, content: item.output ?? null };
    case 'reasoning': {
      const summary = Array.isArray(item.summary) ? item.summary : [];
      const texts = summary.flatMap((s) => (isRecord(s) && typeof s.text === 'string' ? [s.text] : []));
      // Kept as a reasoning part, which the decoder reports as content it cannot hold.
      return { role: 'assistant', content: null, parts: [{ type: 'reasoning', content: texts.join('\n') }] };
    }
    default:
      return undefined;
  }
}

/**
 * The message as an OpenAI-style chat message, or undefined when the value is no message
 * in any shape this module knows. Values already in that shape come back unchanged.
 */
export function chatShapeOf(raw: unknown): Json | undefined {
  if (Array.isArray(raw)) {
    return raw.length === 2 && typeof raw[0] === 'string' && typeof raw[1] === 'string'
      ? { role: raw[0], content: raw[1] }
      : undefined;
  }
  if (!isRecord(raw)) return undefined;
  if (raw.lc === 1 && raw.type === 'constructor' && Array.isArray(raw.id) && isRecord(raw.kwargs)) {
    const path: unknown[] = raw.id;
    const cls = path.at(-1);
    const type = (typeof cls === 'string' ? LANGCHAIN_CLASSES[cls] : undefined) ?? raw.kwargs.type;
    return typeof type === 'string' ? fromLangchain(type, raw.kwargs) : undefined;
  }
  if (typeof raw.type === 'string' && isRecord(raw.data) && raw.role === undefined) {
    return fromLangchain(raw.type, raw.data);
  }
  if (raw.role !== undefined) return raw;
  if (typeof raw.type === 'string') {
    const item = responsesItem(raw);
    if (item) return item;
    if (LANGCHAIN_TYPES.has(raw.type) && 'content' in raw) return fromLangchain(raw.type, raw);
  }
  // A role-less message is still a message when it carries what messages carry.
  const messageLike = ['content', 'parts', 'tool_calls', 'tool_call_id', 'function_call'].some(
    (k) => k in raw,
  );
  return messageLike ? raw : undefined;
}
