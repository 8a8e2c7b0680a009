import type { PreconditionRule } from '../schemas/code-evaluator-config.js';
import { codeEvaluation, type Evaluation, type Finding } from '../schemas/evaluation.js';
import type { TraceRecord } from '../schemas/trace.js';
import { agentActions, type AgentStep } from './agent-trajectory.js';
import { toolMatcher, valuesMatch } from './gold-action-diff.js';

export const TOOL_PRECONDITIONS = 'tool_preconditions';

const noUnorderedKeys: ReadonlySet<string> = new Set();

function describeTies(call: AgentStep, keys: readonly string[]): string {
  const ties = keys.filter((k) => call.arguments[k] !== undefined);
  return ties.length === 0
    ? ''
    : ` with ${ties.map((k) => `${k}=${JSON.stringify(call.arguments[k])}`).join(', ')}`;
}

/**
 * Checks configured ordering rules: each call of a rule's `tool` needs an earlier successful
 * call of every tool in `requires` (a failed lookup told the agent nothing), carrying the
 * same values for the `sameArguments` keys the call itself has. A call that is itself of a
 * required tool is not held to that requirement. Null when no call falls under a rule.
 */
export function toolPreconditions(trace: TraceRecord, rules: readonly PreconditionRule[]): Evaluation | null {
  if (rules.length === 0) return null;
  const steps = agentActions(trace).filter((s) => s.action !== 'respond');
  const compiled = rules.map((rule) => ({
    rule,
    applies: toolMatcher([rule.tool]),
    requires: rule.requires.map((pattern) => ({ pattern, matches: toolMatcher([pattern]) })),
  }));

  const findings: Finding[] = [];
  let checks = 0;
  steps.forEach((call, position) => {
    for (const { rule, applies, requires } of compiled) {
      if (!applies(call.action)) continue;
      const keys = (rule.sameArguments ?? []).filter((k) => call.arguments[k] !== undefined);
      for (const required of requires) {
        if (required.matches(call.action)) continue;
        checks++;
        const satisfied = steps
          .slice(0, position)
          .some(
            (earlier) =>
              earlier.error === undefined &&
              required.matches(earlier.action) &&
              keys.every((k) => valuesMatch(call.arguments[k], earlier.arguments[k], noUnorderedKeys)),
          );
        if (satisfied) continue;
        findings.push({
          kind: 'precondition_violated',
          step: call.step,
          ...(call.spanId ? { spanId: call.spanId } : {}),
          detail: `${call.action} at step ${call.step} needs an earlier successful ${required.pattern}${describeTies(call, keys)}; there was none`,
        });
      }
    }
  });
  if (checks === 0) return null;
  return codeEvaluation({
    evaluator: TOOL_PRECONDITIONS,
    dimension: 'plan_coherence',
    score: (checks - findings.length) / checks,
    label: findings.length === 0 ? 'pass' : 'fail',
    explanation: `${checks - findings.length} of ${checks} required earlier calls were made`,
    category: findings.length > 0 ? 'precondition_violated' : null,
    findings,
  });
}
