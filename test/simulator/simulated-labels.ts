import { unitInterval } from '../../optimizers/stable-hash.js';
import { failureCategoryOf } from '../../schemas/failure-category.js';
import type { Scenario } from './scenario.js';
import { between } from './tagged-text.js';

/**
 * The simulated teacher suggesting a reviewer's label (annotation/label-suggestion.ts): it
 * finds the scenario example the conversation is, compares the agent's step with the
 * example's expected one, and, with the teacher's precision (the rate at which it notices a
 * rule anywhere else), suggests the right label: pass, or fail with the rule's category and
 * the expected step. Otherwise it suggests a plausible wrong fix, as a weak model does: the
 * right category with a step of the other kind (an apology for a tool call; for a reply,
 * the example's wrong action), or a fail for a step that was right.
 */

const APOLOGY = "I'm sorry, I can't help with that request. Is there anything else I can do for you?";
const STEP = /<agent_step>\s*(?:Called tool (\S+)|Replied:)/;

export function simulateLabelSuggestion(scenario: Scenario, requestText: string): Record<string, unknown> {
  const conversation = between(requestText, 'conversation') ?? '';
  const example = scenario.examples.find((e) => conversation.includes(e.request));
  const answer = (
    verdict: 'pass' | 'fail',
    category: string,
    step: { reply: string } | { tool: string; arguments: Record<string, unknown> } | null,
    reason: string,
  ) => ({
    verdict,
    category,
    step: step === null ? 'none' : 'reply' in step ? 'reply' : 'tool_call',
    reply: step && 'reply' in step ? step.reply : '',
    tool: step && 'tool' in step ? step.tool : '',
    arguments: step && 'tool' in step ? JSON.stringify(step.arguments) : '',
    reason,
  });
  if (!example) return answer('pass', 'none', null, 'Nothing in the conversation shows a mistake.');
  const did = STEP.exec(requestText)?.[1] ?? 'respond';
  const rule = scenario.rules.find((r) => r.id === example.rule);
  const category = failureCategoryOf(rule?.category ?? '') ?? 'tool_selection';
  const right = unitInterval(`label|${example.id}|${did}`, scenario.seed) < scenario.teacher.precision;
  const expected = example.expected;
  const rightStep =
    expected.action === 'respond'
      ? { reply: example.reply }
      : { tool: expected.action, arguments: expected.arguments };
  if (did === expected.action) {
    return right
      ? answer('pass', 'none', null, 'The agent took the step this request needs.')
      : answer('fail', category, { reply: APOLOGY }, 'The agent should not have acted on this request.');
  }
  if (right)
    return answer(
      'fail',
      category,
      rightStep,
      rule ? `The request falls under the rule: ${rule.description}` : 'The agent took the wrong step.',
    );
  const wrongStep =
    expected.action !== 'respond' || example.wrong.action === 'respond'
      ? { reply: APOLOGY }
      : { tool: example.wrong.action, arguments: example.wrong.arguments };
  return answer('fail', category, wrongStep, 'The agent took the wrong step.');
}
