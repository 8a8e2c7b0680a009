import type { TextAssertion } from '../schemas/code-evaluator-config.js';
import { codeEvaluation, type Evaluation, type Finding } from '../schemas/evaluation.js';
import type { AgentAction, TraceRecord } from '../schemas/trace.js';
import { agentActions, finalReply } from './agent-trajectory.js';

export const TEXT_ASSERTIONS = 'text_assertions';

/** The whole final output as text: the reply, or the tool call with its arguments. */
export function outputText(output: AgentAction): string {
  if (output.action === 'respond') return output.content ?? '';
  const call = `${output.action} ${JSON.stringify(output.arguments)}`;
  return output.content ? `${output.content}\n${call}` : call;
}

const negated = new Set<TextAssertion['type']>(['not-contains', 'not-regex']);

/** Whether the text satisfies the assertion; a string says why it cannot be evaluated. */
function holds(a: TextAssertion, text: string): boolean | string {
  switch (a.type) {
    case 'contains':
      return text.includes(a.value);
    case 'icontains':
      return text.toLowerCase().includes(a.value.toLowerCase());
    case 'not-contains':
      return !text.includes(a.value);
    case 'equals':
      return text.trim() === a.value.trim();
    case 'regex':
    case 'not-regex': {
      let re: RegExp;
      try {
        re = new RegExp(a.value, a.flags);
      } catch (err) {
        return `not a valid regex: ${err instanceof Error ? err.message : String(err)}`;
      }
      return re.test(text) === (a.type === 'regex');
    }
  }
}

function describe(a: TextAssertion): string {
  const flags = a.flags ? a.flags : '';
  const value = a.type.endsWith('regex') ? `/${a.value}/${flags}` : JSON.stringify(a.value);
  return `${a.target} ${a.type} ${value}`;
}

/**
 * promptfoo-like assertions (contains, icontains, not-contains, regex, not-regex, equals)
 * over the final reply or the whole final output. A trace that ends on a tool call has no
 * reply: assertions that a reply says something fail, those that it does not say it pass.
 * Null when no assertion is configured.
 */
export function textAssertions(trace: TraceRecord, assertions: readonly TextAssertion[]): Evaluation | null {
  if (assertions.length === 0) return null;
  const reply = finalReply(trace);
  const output = outputText(trace.output);
  const last = agentActions(trace).at(-1);
  const at = last ? { step: last.step, ...(last.spanId ? { spanId: last.spanId } : {}) } : { step: null };

  const findings: Finding[] = [];
  for (const a of assertions) {
    const text = a.target === 'reply' ? reply : output;
    if (text === null) {
      if (!negated.has(a.type)) {
        findings.push({
          kind: 'assertion_failed',
          ...at,
          detail: `${describe(a)}: the trace ends on a tool call (${trace.output.action}), so there is no reply`,
        });
      }
      continue;
    }
    const verdict = holds(a, text);
    if (verdict === true) continue;
    findings.push(
      typeof verdict === 'string'
        ? { kind: 'invalid_assertion', ...at, detail: `${describe(a)}: ${verdict}` }
        : {
            kind: 'assertion_failed',
            ...at,
            detail: `${describe(a)} failed on ${JSON.stringify(text.slice(0, 160))}`,
          },
    );
  }
  const passed = assertions.length - findings.length;
  return codeEvaluation({
    evaluator: TEXT_ASSERTIONS,
    dimension: 'instruction_adherence',
    score: passed / assertions.length,
    label: findings.length === 0 ? 'pass' : 'fail',
    explanation: `${passed} of ${assertions.length} text assertions hold`,
    category: findings[0]?.kind ?? null,
    findings,
  });
}
