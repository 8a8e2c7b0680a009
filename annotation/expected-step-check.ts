import type { ErrorObject } from 'ajv';
import { argumentsValidator, type Tool } from '../evaluation/tool-argument-validity.js';
import type { AgentAction } from '../schemas/trace.js';

/** The label field a problem is about, as the API names it in `{ error, field }`. */
export type ExpectedStepField = 'expected.action' | 'expected.arguments';

export interface ExpectedStepProblem {
  field: ExpectedStepField;
  /** What is wrong and what to do, without the item (the caller says which item). */
  message: string;
}

/** The reply step: its content is the corrected reply, not a call to check against tools. */
const REPLY = 'respond';

/**
 * Checks the step a reviewer says the agent should have taken against the agent's tools:
 * the tool must be one the agent has, and its arguments must satisfy the tool's JSON-schema
 * `parameters`. A reply, an agent that declares no tools and a tool whose schema does not
 * compile are not checked (there is nothing to check against). The example built from the
 * label teaches the optimizer this step, so a call the agent could never make is refused.
 */
export function expectedStepProblem(
  tools: readonly Tool[],
  expected: AgentAction | undefined,
): ExpectedStepProblem | null {
  if (!expected || expected.action === REPLY || tools.length === 0) return null;
  const tool = tools.find((t) => t.name === expected.action);
  if (!tool)
    return {
      field: 'expected.action',
      message: `the expected tool "${expected.action}" is not one of the agent's tools (${tools
        .map((t) => t.name)
        .join(
          ', ',
        )}); name one of them, or expect a reply instead ({"action": "respond", "content": "<the reply>"})`,
    };
  const validate = argumentsValidator(tool.parameters);
  if (typeof validate === 'string' || validate(expected.arguments)) return null;
  const problems = [...new Set((validate.errors ?? []).map((e) => describeError(e, expected.arguments)))];
  return {
    field: 'expected.arguments',
    message: `the arguments of the expected ${tool.name} call do not fit the tool: ${problems.join('; ')}. ${tool.name} takes ${describeParameters(tool.parameters)}`,
  };
}

/** `/passengers/0/name` → `passengers[0].name`; the arguments object itself is ''. */
function argumentPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('')
    .replace(/~1/g, '/')
    .replace(/~0/g, '~');
}

const within = (path: string, name: string) => (path === '' ? name : `${path}.${name}`);

/** The value at an Ajv instance path (Ajv reports values only when verbose). */
function valueAt(args: unknown, instancePath: string): unknown {
  let value = args;
  for (const part of instancePath.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

function describeError(e: ErrorObject, args: Record<string, unknown>): string {
  const at = argumentPath(e.instancePath);
  const value = valueAt(args, e.instancePath);
  const subject = at === '' ? 'the arguments' : at;
  switch (e.keyword) {
    case 'required':
      return `${within(at, String(e.params.missingProperty))} is missing`;
    case 'additionalProperties':
      return `${within(at, String(e.params.additionalProperty))} is not a parameter of it`;
    case 'type':
      return `${subject} must be ${article(String(e.params.type))}${describeValue(value)}`;
    case 'enum':
      return `${subject} must be one of ${(e.params.allowedValues as unknown[]).map(show).join(', ')}${describeValue(value, false)}`;
    case 'const':
      return `${subject} must be ${show(e.params.allowedValue)}`;
    default:
      return `${subject} ${e.message ?? `fails ${e.keyword}`}`;
  }
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

function article(type: string): string {
  const list = type.split(',');
  const one = (t: string) => (t === 'integer' || t === 'array' || t === 'object' ? `an ${t}` : `a ${t}`);
  return list.map(one).join(' or ');
}

function describeValue(value: unknown, withKind = true): string {
  const text = JSON.stringify(value) ?? String(value);
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  if (!withKind) return ` (got ${shown})`;
  const kind =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'a list'
        : typeof value === 'object'
          ? 'an object'
          : `a ${typeof value}`;
  return ` (got ${shown}, ${kind})`;
}

/**
 * The tool's parameters as a reviewer reads them: `user_id (string, required), cabin (one
 * of economy, business)`, and whether other names are refused.
 */
export function describeParameters(parameters: Record<string, unknown>): string {
  const properties = record(parameters.properties);
  const required = new Set(Array.isArray(parameters.required) ? parameters.required.map(String) : []);
  const names = Object.keys(properties);
  if (names.length === 0) return 'no arguments';
  const each = names.map((name) => {
    const p = record(properties[name]);
    const facts = [
      ...(Array.isArray(p.enum)
        ? [`one of ${p.enum.map(show).join(', ')}`]
        : p.type !== undefined
          ? [Array.isArray(p.type) ? p.type.map(show).join(' or ') : show(p.type)]
          : []),
      ...(required.has(name) ? ['required'] : []),
    ];
    return facts.length > 0 ? `${name} (${facts.join(', ')})` : name;
  });
  return `${each.join(', ')}${parameters.additionalProperties === false ? ' and nothing else' : ''}`;
}

const record = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
