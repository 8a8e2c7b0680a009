/**
 * A tool span's arguments as plain named values. Python instrumentations record the call
 * they wrapped as its bound parameters: smolagents' `Tool.__call__(*args,
 * sanitize_inputs_outputs, **kwargs)` becomes `{"args": [...], "kwargs": {...},
 * "sanitize_inputs_outputs": false}`, LlamaIndex's `FunctionTool.call(*args, **kwargs)` and
 * Traceloop's `@tool` decorator `{"args": [...], "kwargs": {...}}`. The keyword arguments are
 * the named ones; positional ones take their names from the tool's parameter schema, in
 * declaration order. Positional values whose names are unknown stay in order under `_args`
 * (the underscore marks a key that is not one of the tool's own parameters, as `_raw` does).
 */

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Wrapper keys that are the wrapping method's own parameters, never the tool's. */
const WRAPPER_FLAGS = new Set(['sanitize_inputs_outputs']);

/** The positional and keyword parts when the value is such a wrapper, else undefined. */
export function callWrapperOf(value: unknown): { args: unknown[]; kwargs: Json } | undefined {
  if (!isRecord(value) || !Array.isArray(value.args)) return undefined;
  const kwargs = value.kwargs === undefined || value.kwargs === null ? {} : value.kwargs;
  if (!isRecord(kwargs)) return undefined;
  for (const key of Object.keys(value)) {
    if (key !== 'args' && key !== 'kwargs' && !WRAPPER_FLAGS.has(key)) return undefined;
  }
  return { args: value.args, kwargs };
}

/**
 * Parameter names in declaration order from the schema shapes tools are described with: a
 * JSON schema (`properties`), an OpenAI tool definition (`function.parameters`), a GenAI
 * definition (`parameters`), or smolagents' `inputs` map (name → {type, description}).
 */
export function parameterNamesOf(schema: unknown): string[] | undefined {
  if (!isRecord(schema)) return undefined;
  if (isRecord(schema.function)) return parameterNamesOf(schema.function.parameters);
  if (isRecord(schema.parameters)) return parameterNamesOf(schema.parameters);
  if (isRecord(schema.properties)) return Object.keys(schema.properties);
  const entries = Object.entries(schema);
  const inputsMap = entries.length > 0 && entries.every(([, v]) => isRecord(v) && typeof v.type === 'string');
  return inputsMap ? entries.map(([k]) => k) : undefined;
}

/** The tool name a definition describes (OpenAI `function.name`, GenAI and others `name`). */
export function toolNameOf(definition: unknown): string | undefined {
  if (!isRecord(definition)) return undefined;
  const named = isRecord(definition.function) ? definition.function : definition;
  return typeof named.name === 'string' && named.name !== '' ? named.name : undefined;
}

/**
 * Named arguments from a wrapper: keyword arguments as they are, positional ones named by
 * `names` (skipping names a keyword already took, as Python binds them).
 */
export function unwrapCall(
  wrapper: { args: unknown[]; kwargs: Json },
  names: readonly string[] | undefined,
): Json {
  // smolagents accepts the whole argument dict as the one positional value.
  const only =
    wrapper.args.length === 1 && Object.keys(wrapper.kwargs).length === 0 ? wrapper.args[0] : undefined;
  if (names && isRecord(only) && Object.keys(only).every((k) => names.includes(k))) return { ...only };
  const out: Json = {};
  const free = (names ?? []).filter((n) => !Object.hasOwn(wrapper.kwargs, n));
  const unnamed: unknown[] = [];
  wrapper.args.forEach((value, i) => {
    const name = free[i];
    if (name === undefined) unnamed.push(value);
    else out[name] = value;
  });
  Object.assign(out, wrapper.kwargs);
  if (unnamed.length > 0) out._args = unnamed;
  return out;
}
