import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { z } from 'zod';
import type { ToolSchema } from '../schemas/agent-config.js';
import { codeEvaluation, type Evaluation, type Finding } from '../schemas/evaluation.js';
import type { TraceRecord } from '../schemas/trace.js';
import { agentActions, type AgentStep } from './agent-trajectory.js';

export const TOOL_ARGUMENT_VALIDITY = 'tool_argument_validity';

export type Tool = z.infer<typeof ToolSchema>;

// Tool schemas come from many model vendors' dialects, so unknown keywords and formats are
// tolerated (strict off) and every error of a call is reported at once (allErrors).
const ajv = new Ajv({ strict: false, allErrors: true });

/**
 * Compiled validators by schema text: compiled once per distinct schema, however many
 * parsed copies of an agent's configuration ask. A string is why the schema did not compile.
 */
const compiled = new Map<string, ValidateFunction | string>();

/**
 * The validator of a tool's `parameters` schema, or why the schema does not compile. Shared
 * with the check of a reviewer's expected tool call, so both read a schema the same way.
 */
export function argumentsValidator(parameters: Record<string, unknown>): ValidateFunction | string {
  // `$id` would collide between agents that reuse one, and a `$schema` naming a draft this
  // Ajv does not bundle would stop compilation; neither changes what the arguments must be.
  const { $id: _id, $schema: _schema, ...schema } = parameters;
  const key = JSON.stringify(schema);
  let validator = compiled.get(key);
  if (validator === undefined) {
    try {
      validator = ajv.compile(schema);
    } catch (err) {
      validator = err instanceof Error ? err.message : String(err);
    }
    compiled.set(key, validator);
  }
  return validator;
}

function describeErrors(errors: readonly ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => {
      const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : '';
      return `${e.instancePath || '(arguments)'} ${e.message ?? e.keyword}${extra}`;
    })
    .join('; ');
}

/** `parseToolArguments` keeps arguments that were not a JSON object as `{ _raw }`. */
function unparsedText(args: Record<string, unknown>): string | null {
  const keys = Object.keys(args);
  return keys.length === 1 && keys[0] === '_raw' && typeof args._raw === 'string' ? args._raw : null;
}

function at(step: AgentStep): Pick<Finding, 'step' | 'spanId'> {
  return { step: step.step, ...(step.spanId ? { spanId: step.spanId } : {}) };
}

/**
 * Checks every tool call's arguments against the agent's tool JSON schemas
 * (`ToolSchema.parameters`): `unknown_tool` for a tool the agent does not have,
 * `invalid_arguments` for arguments the schema rejects. Null when the agent declares no
 * tools or the trace makes no call. A schema that does not compile leaves its calls
 * unchecked and lowers the confidence instead of blaming the agent.
 */
export function toolArgumentValidity(trace: TraceRecord, tools: readonly Tool[]): Evaluation | null {
  if (tools.length === 0) return null;
  const calls = agentActions(trace).filter((s) => s.action !== 'respond');
  if (calls.length === 0) return null;
  const byName = new Map(tools.map((t) => [t.name, t]));

  const findings: Finding[] = [];
  const unverifiable = new Map<string, string>();
  let checked = 0;
  for (const call of calls) {
    const tool = byName.get(call.action);
    if (tool === undefined) {
      checked++;
      findings.push({
        kind: 'unknown_tool',
        ...at(call),
        detail: `${call.action} is not one of the agent's ${tools.length} tools`,
      });
      continue;
    }
    const validate = argumentsValidator(tool.parameters);
    if (typeof validate === 'string') {
      unverifiable.set(tool.name, validate);
      continue;
    }
    checked++;
    const raw = unparsedText(call.arguments);
    if (raw !== null) {
      findings.push({
        kind: 'invalid_arguments',
        ...at(call),
        detail: `${call.action}: the arguments are not a JSON object: ${raw.slice(0, 200)}`,
      });
    } else if (!validate(call.arguments)) {
      findings.push({
        kind: 'invalid_arguments',
        ...at(call),
        detail: `${call.action}: ${describeErrors(validate.errors)}`,
      });
    }
  }

  const skipped = calls.length - checked;
  const notes = [...unverifiable].map(([name, error]) => `the schema of ${name} does not compile (${error})`);
  const summary = `${checked - findings.length} of ${checked} checked tool calls have valid arguments`;
  return codeEvaluation({
    evaluator: TOOL_ARGUMENT_VALIDITY,
    dimension: 'argument_extraction',
    score: checked === 0 ? 1 : (checked - findings.length) / checked,
    label: findings.length === 0 ? 'pass' : 'fail',
    explanation: [summary, ...(skipped > 0 ? [`${skipped} unchecked: ${notes.join('; ')}`] : [])].join('; '),
    confidence: checked / calls.length,
    category: findings.some((f) => f.kind === 'unknown_tool')
      ? 'unknown_tool'
      : findings.length > 0
        ? 'invalid_arguments'
        : null,
    findings,
  });
}
