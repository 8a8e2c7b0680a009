import type { Span } from '../schemas/trace.js';
import { parseJsonish } from './otlp-message-decode.js';
import { callWrapperOf, parameterNamesOf, toolNameOf, unwrapCall } from './tool-arguments.js';

/**
 * Names the positional arguments of tool spans from tool schemas seen anywhere in the trace.
 * A smolagents tool span carries its own `tool.parameters`, but other frameworks describe a
 * tool only once, on the model call that could choose it (`llm.tools.N.tool.json_schema`,
 * `gen_ai.tool.definitions`). Spans arrive in batches, so this runs on the assembled trace;
 * it reads the raw call the span kept as its input, so running it again changes nothing.
 */

/** OpenLLMetry's `llm.request.functions.N.{name,parameters}`, one definition per index. */
const FUNCTION_KEY = /^llm\.request\.functions\.(\d+)\.(name|parameters)$/;

function definitionsOf(span: Span): unknown[] {
  const out: unknown[] = [];
  const functions = new Map<string, Record<string, unknown>>();
  for (const [key, value] of Object.entries(span.attributes)) {
    const fn = FUNCTION_KEY.exec(key);
    if (fn) {
      const entry = functions.get(fn[1]!) ?? {};
      entry[fn[2]!] = fn[2] === 'parameters' ? parseJsonish(value) : value;
      functions.set(fn[1]!, entry);
    } else if (key.startsWith('llm.tools.') && key.endsWith('.tool.json_schema'))
      out.push(parseJsonish(value));
    else if (key === 'gen_ai.tool.definitions' || key === 'llm.tools') {
      const list = parseJsonish(value);
      if (Array.isArray(list)) out.push(...(list as unknown[]));
    }
  }
  out.push(...[...functions.entries()].sort(([a], [b]) => Number(a) - Number(b)).map(([, f]) => f));
  if (span.tool) {
    const params = parseJsonish(span.attributes['tool.parameters']);
    if (params !== undefined) out.push({ name: span.tool.name, parameters: params });
  }
  return out;
}

/** Tool name → parameter names, the first definition (in span order) winning. */
function parameterNames(spans: readonly Span[]): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const span of spans) {
    for (const definition of definitionsOf(span)) {
      const tool = toolNameOf(definition);
      if (tool === undefined || names.has(tool)) continue;
      const params = parameterNamesOf(definition);
      if (params) names.set(tool, params);
    }
  }
  return names;
}

/** The spans with positional tool arguments named where the trace knows the tool's schema. */
export function nameToolArguments(spans: readonly Span[]): Span[] {
  const pending = spans.some((s) => s.tool?.arguments && Array.isArray(s.tool.arguments._args));
  if (!pending) return [...spans];
  const names = parameterNames(spans);
  return spans.map((span) => {
    const tool = span.tool;
    if (!tool?.arguments || !Array.isArray(tool.arguments._args)) return span;
    const known = names.get(tool.name);
    const wrapper = callWrapperOf(parseJsonish(span.input));
    if (!known || !wrapper) return span;
    return { ...span, tool: { ...tool, arguments: unwrapCall(wrapper, known) } };
  });
}
