import type { ChatMessage, Span, SpanKind, TokenUsage } from '../schemas/trace.js';
import {
  completionFromJson,
  isRecord,
  messagesFromJson,
  parseJsonish,
  parseToolArguments,
  type DecodedMessages,
} from './otlp-message-decode.js';
import {
  openInferenceLayout,
  openInferencePromptsLayout,
  openLlmetryLayout,
  promptsFromList,
  readIndexedMessages,
  type IndexedLayout,
} from './otlp-indexed-messages.js';
import { parsePythonLiteral } from './python-literal.js';
import { callWrapperOf, parameterNamesOf, unwrapCall } from './tool-arguments.js';

/**
 * One flat attribute map (OpenInference, OTel GenAI current or deprecated keys, or a mix)
 * to normalized span fields. A key is consumed only when its value is fully represented
 * by a field; everything else, including keys whose value could not be mapped, is returned
 * unchanged in `attributes`. Where several keys can supply one field, the first in
 * preference order wins and the others are consumed only when they agree with it.
 */

export type MappedSpanAttributes = Pick<
  Span,
  | 'model'
  | 'provider'
  | 'inputMessages'
  | 'outputMessages'
  | 'tool'
  | 'retrievals'
  | 'usage'
  | 'costUsd'
  | 'input'
  | 'output'
> & { kind: SpanKind; attributes: Record<string, unknown> };

export const openInferenceKinds: Record<string, SpanKind> = {
  LLM: 'llm',
  CHAIN: 'chain',
  TOOL: 'tool',
  AGENT: 'agent',
  RETRIEVER: 'retriever',
  EMBEDDING: 'embedding',
  RERANKER: 'reranker',
  GUARDRAIL: 'guardrail',
  EVALUATOR: 'evaluator',
  UNKNOWN: 'unknown',
};

/** Traceloop's decorators (`@workflow`, `@task`, `@agent`, `@tool`) name the kind of their span. */
const traceloopKinds: Record<string, SpanKind> = {
  workflow: 'chain',
  task: 'chain',
  agent: 'agent',
  tool: 'tool',
};

const genAiOperations: Record<string, SpanKind> = {
  chat: 'llm',
  text_completion: 'llm',
  generate_content: 'llm',
  execute_tool: 'tool',
  embeddings: 'embedding',
  invoke_agent: 'agent',
  create_agent: 'agent',
};

/** The operation written on export; other operations of the same kind stay as attributes. */
export const genAiOperationOfKind: Partial<Record<SpanKind, string>> = {
  llm: 'chat',
  tool: 'execute_tool',
  embedding: 'embeddings',
  agent: 'invoke_agent',
};

/** Key-order independent, so the same messages decoded from two conventions compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

class AttributeReader {
  private readonly used = new Set<string>();
  /** Listed once: the readers below walk every key, and a span may hold hundreds. */
  readonly keys: readonly string[];
  constructor(readonly attrs: Record<string, unknown>) {
    this.keys = Object.keys(attrs);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.attrs, key);
  }

  /** Present and not represented by a field. */
  kept(key: string): boolean {
    return this.has(key) && !this.used.has(key);
  }

  consume(keys: Iterable<string>): void {
    for (const k of keys) this.used.add(k);
  }

  pick<T>(keys: readonly string[], parse: (value: unknown) => T | undefined): T | undefined {
    let winner: T | undefined;
    for (const key of keys) {
      if (!this.has(key) || this.used.has(key)) continue;
      const value = parse(this.attrs[key]);
      if (value === undefined) continue;
      if (winner === undefined) winner = value;
      else if (canonical(value) !== canonical(winner)) continue;
      this.used.add(key);
    }
    return winner;
  }

  leftover(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of this.keys) if (!this.used.has(key)) out[key] = this.attrs[key];
    return out;
  }
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const anyString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function count(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function money(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

type MessageSource =
  | { kind: 'indexed'; prefix: string; layout: IndexedLayout }
  | { kind: 'json'; key: string; decode: (v: unknown) => DecodedMessages | undefined };

/** The first source that decodes supplies the messages; agreeing later sources are consumed. */
function readMessages(r: AttributeReader, sources: readonly MessageSource[]): ChatMessage[] | undefined {
  let winner: ChatMessage[] | undefined;
  for (const source of sources) {
    let messages: ChatMessage[] | undefined;
    let keys: string[] = [];
    if (source.kind === 'indexed') {
      const got = readIndexedMessages(r.attrs, source.prefix, source.layout, r.keys);
      if (!got) continue;
      messages = got.messages;
      keys = got.consumed;
    } else {
      if (!r.has(source.key)) continue;
      const got = source.decode(r.attrs[source.key]);
      if (!got) continue;
      messages = got.messages;
      keys = got.lossy ? [] : [source.key];
    }
    if (winner === undefined) winner = messages;
    else if (canonical(messages) !== canonical(winner)) continue;
    r.consume(keys);
  }
  return winner;
}

/** Deprecated prompt/completion attributes may hold plain text rather than JSON messages. */
function orPlainText(
  role: 'user' | 'assistant',
  decode: (v: unknown) => DecodedMessages | undefined,
): (v: unknown) => DecodedMessages | undefined {
  return (v) =>
    decode(v) ??
    (typeof v === 'string' && v !== '' ? { messages: [{ role, content: v }], lossy: false } : undefined);
}

function systemInstructions(v: unknown): string | undefined {
  const parsed = parseJsonish(v);
  if (Array.isArray(parsed)) {
    const texts = parsed.flatMap((p) =>
      typeof p === 'string' ? [p] : isRecord(p) && typeof p.content === 'string' ? [p.content] : [],
    );
    return texts.length === parsed.length && texts.length > 0 ? texts.join('\n') : undefined;
  }
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function readKind(r: AttributeReader): SpanKind | undefined {
  const oi = r.pick(['openinference.span.kind'], (v) =>
    typeof v === 'string' ? openInferenceKinds[v.toUpperCase()] : undefined,
  );
  const op =
    typeof r.attrs['gen_ai.operation.name'] === 'string' ? r.attrs['gen_ai.operation.name'] : undefined;
  const opKind = op === undefined ? undefined : genAiOperations[op];
  const kind = oi ?? opKind;
  if (kind !== undefined && opKind === kind && op === genAiOperationOfKind[kind]) {
    r.consume(['gen_ai.operation.name']);
  }
  // Left as an attribute: it also says which decorator made the span.
  const traceloop = r.attrs['traceloop.span.kind'];
  return kind ?? (typeof traceloop === 'string' ? traceloopKinds[traceloop] : undefined);
}

const TOOL_INPUT_KEYS = ['input.value', 'input', 'traceloop.entity.input'];

function readTool(r: AttributeReader, kind: SpanKind | undefined): Span['tool'] {
  const traceloopTool = r.attrs['traceloop.span.kind'] === 'tool';
  const name =
    r.pick(['gen_ai.tool.name', 'tool.name', 'tool_call.function.name'], text) ??
    (traceloopTool ? text(r.attrs['traceloop.entity.name']) : undefined);
  if (name === undefined) return undefined;
  const tool: NonNullable<Span['tool']> = { name };
  const callId = r.pick(['gen_ai.tool.call.id', 'tool_call.id', 'tool.id'], text);
  if (callId !== undefined) tool.callId = callId;
  const description = r.pick(['gen_ai.tool.description', 'tool.description'], anyString);
  if (description !== undefined) tool.description = description;
  const args = r.pick(['gen_ai.tool.call.arguments', 'tool_call.function.arguments'], (v) =>
    v === undefined || v === null ? undefined : parseToolArguments(v),
  );
  if (args !== undefined) tool.arguments = args;
  const result = r.pick(['gen_ai.tool.call.result'], (v) =>
    v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v),
  );
  if (result !== undefined) tool.result = result;
  // Tool spans conventionally carry the call's arguments and result as their input/output.
  if ((kind ?? 'tool') === 'tool') {
    if (tool.arguments === undefined) {
      const key = TOOL_INPUT_KEYS.find((k) => isRecord(parseJsonish(r.attrs[k])));
      if (key !== undefined && typeof r.attrs[key] === 'string') {
        const value = parseJsonish(r.attrs[key]) as Record<string, unknown>;
        const wrapper = callWrapperOf(value);
        if (wrapper) {
          // The raw call stays as the span's input: the trace may name positional values later.
          tool.arguments = unwrapCall(wrapper, parameterNamesOf(parseJsonish(r.attrs['tool.parameters'])));
        } else {
          tool.arguments = value;
          r.consume([key]);
        }
      } else {
        // LangChain records a tool's input as `str(dict)`, Python's repr: named, but not JSON.
        const raw = TOOL_INPUT_KEYS.map((k) => r.attrs[k]).find((v) => typeof v === 'string');
        const literal = typeof raw === 'string' ? parsePythonLiteral(raw) : undefined;
        if (isRecord(literal)) tool.arguments = literal;
      }
    }
    if (tool.result === undefined) {
      const key = ['output.value', 'output', 'traceloop.entity.output'].find(
        (k) => typeof r.attrs[k] === 'string',
      );
      if (key !== undefined) {
        tool.result = r.attrs[key] as string;
        r.consume([key]);
      }
    }
  }
  return tool;
}

function readRetrievals(r: AttributeReader): Span['retrievals'] {
  const docs = new Map<number, NonNullable<Span['retrievals']>[number]>();
  for (const key of r.keys) {
    if (!key.startsWith('retrieval.documents.')) continue;
    const value = r.attrs[key];
    const m = /^retrieval\.documents\.(\d+)\.document\.(id|content|score|metadata)$/.exec(key);
    if (!m) continue;
    const index = Number(m[1]);
    const doc = docs.get(index) ?? { content: '' };
    const field = m[2];
    if (field === 'id' && (typeof value === 'string' || typeof value === 'number')) doc.id = String(value);
    else if (field === 'content' && typeof value === 'string') doc.content = value;
    else if (field === 'score' && typeof value === 'number') doc.score = value;
    else if (field === 'metadata' && isRecord(parseJsonish(value))) {
      doc.metadata = parseJsonish(value) as Record<string, unknown>;
    } else continue;
    docs.set(index, doc);
    r.consume([key]);
  }
  return docs.size > 0 ? [...docs.entries()].sort(([a], [b]) => a - b).map(([, d]) => d) : undefined;
}

function readUsage(r: AttributeReader): TokenUsage | undefined {
  const usage: TokenUsage = {};
  const input = r.pick(
    [
      'gen_ai.usage.input_tokens',
      'llm.token_count.prompt',
      'gen_ai.usage.prompt_tokens',
      'llm.usage.prompt_tokens',
    ],
    count,
  );
  const output = r.pick(
    [
      'gen_ai.usage.output_tokens',
      'llm.token_count.completion',
      'gen_ai.usage.completion_tokens',
      'llm.usage.completion_tokens',
    ],
    count,
  );
  // GenAI has no total; deriving it keeps trace sums comparable across conventions.
  const total =
    r.pick(['llm.token_count.total', 'llm.usage.total_tokens', 'gen_ai.usage.total_tokens'], count) ??
    (input !== undefined && output !== undefined ? input + output : undefined);
  if (input !== undefined) usage.inputTokens = input;
  if (output !== undefined) usage.outputTokens = output;
  if (total !== undefined) usage.totalTokens = total;
  return Object.keys(usage).length > 0 ? usage : undefined;
}

/** The prompt/completion breakdown has no field, so those keys stay as attributes. */
function readCost(r: AttributeReader): number | undefined {
  const total = r.pick(['llm.cost.total'], money);
  if (total !== undefined) return total;
  const parts = [money(r.attrs['llm.cost.prompt']), money(r.attrs['llm.cost.completion'])];
  const known = parts.filter((p): p is number => p !== undefined);
  return known.length > 0 ? known.reduce((a, b) => a + b, 0) : undefined;
}

export function mapSpanAttributes(attrs: Record<string, unknown>): MappedSpanAttributes {
  const r = new AttributeReader(attrs);
  const explicitKind = readKind(r);
  const out: Omit<MappedSpanAttributes, 'kind' | 'attributes'> = {};

  const model = r.pick(
    [
      'gen_ai.response.model',
      'llm.model_name',
      'gen_ai.request.model',
      'embedding.model_name',
      'reranker.model_name',
    ],
    text,
  );
  if (model !== undefined) out.model = model;
  const provider = r.pick(['gen_ai.provider.name', 'llm.provider', 'gen_ai.system', 'llm.system'], text);
  if (provider !== undefined) out.provider = provider;

  let inputMessages = readMessages(r, [
    { kind: 'indexed', prefix: 'llm.input_messages', layout: openInferenceLayout },
    { kind: 'json', key: 'gen_ai.input.messages', decode: messagesFromJson },
    { kind: 'indexed', prefix: 'gen_ai.prompt', layout: openLlmetryLayout },
    { kind: 'json', key: 'gen_ai.prompt', decode: orPlainText('user', messagesFromJson) },
    { kind: 'indexed', prefix: 'llm.prompts', layout: openInferencePromptsLayout },
    { kind: 'json', key: 'llm.prompts', decode: promptsFromList },
  ]);
  let outputMessages = readMessages(r, [
    { kind: 'indexed', prefix: 'llm.output_messages', layout: openInferenceLayout },
    { kind: 'json', key: 'gen_ai.output.messages', decode: messagesFromJson },
    { kind: 'indexed', prefix: 'gen_ai.completion', layout: openLlmetryLayout },
    { kind: 'json', key: 'gen_ai.completion', decode: orPlainText('assistant', completionFromJson) },
  ]);
  const system = systemInstructions(r.attrs['gen_ai.system_instructions']);
  if (system !== undefined) {
    const first = inputMessages?.[0];
    if (first?.role !== 'system' || first.content !== system) {
      inputMessages = [{ role: 'system', content: system }, ...(inputMessages ?? [])];
    }
    // Instructions belong with the GenAI messages: while those stay raw, so do they.
    if (!r.kept('gen_ai.input.messages')) r.consume(['gen_ai.system_instructions']);
  }

  const tool = readTool(r, explicitKind);
  if (tool !== undefined) out.tool = tool;

  const input = r.pick(['input.value', 'input', 'traceloop.entity.input'], anyString);
  if (input !== undefined) out.input = input;
  const output = r.pick(['output.value', 'output', 'traceloop.entity.output'], anyString);
  if (output !== undefined) out.output = output;
  // Without message attributes, an LLM span's raw input/output is the conversation itself.
  if (explicitKind === 'llm') {
    if (inputMessages === undefined && input !== undefined) {
      inputMessages = orPlainText('user', messagesFromJson)(input)?.messages;
    }
    if (outputMessages === undefined && output !== undefined) {
      outputMessages = orPlainText('assistant', completionFromJson)(output)?.messages;
    }
  }
  if (inputMessages !== undefined) out.inputMessages = inputMessages;
  if (outputMessages !== undefined) out.outputMessages = outputMessages;

  const retrievals = readRetrievals(r);
  if (retrievals !== undefined) out.retrievals = retrievals;
  const usage = readUsage(r);
  if (usage !== undefined) out.usage = usage;
  const cost = readCost(r);
  if (cost !== undefined) out.costUsd = cost;

  const kind = explicitKind ?? (tool ? 'tool' : inputMessages || outputMessages ? 'llm' : 'unknown');
  return { kind, ...out, attributes: r.leftover() };
}
