import { unitInterval } from '../../optimizers/stable-hash.js';
import type { Scenario } from './scenario.js';
import { findExample } from './simulated-models.js';

/**
 * The simulated judge's rubric answers and the simulated teacher's cluster diagnoses.
 * Like the other simulated models they read only the request text (and seed), so product
 * code cannot tell them from a real model.
 */

type Rule = Scenario['rules'][number];

/** Which binary rubrics a failure mode breaks, when the scenario does not say. */
const DIMENSIONS_BY_CATEGORY: Record<string, string[]> = {
  policy_violation: ['plan_coherence'],
  missing_confirmation: ['plan_coherence'],
  escalation: ['tool_selection'],
  tool_selection: ['tool_selection', 'plan_coherence'],
  argument_error: ['argument_extraction'],
};
/** Which taxonomy entry a failure mode belongs to, when the scenario does not say. */
const TAXONOMY_BY_CATEGORY: Record<string, { category: string; subtype: string }> = {
  policy_violation: { category: 'policy_escalation', subtype: 'policy_violation' },
  missing_confirmation: { category: 'planning', subtype: 'missing_confirmation' },
  escalation: { category: 'policy_escalation', subtype: 'missed_escalation' },
  tool_selection: { category: 'tool_selection', subtype: 'wrong_tool' },
  argument_error: { category: 'tool_selection', subtype: 'wrong_arguments' },
};
const LIKERT_FAILS = new Set(['instruction_adherence', 'optimal_plan_execution']);
const REPAIR_MARKER = 'did not match the required JSON schema';

/** The trace under judgement: after the few-shot examples, never inside them. */
function judgedPart(requestText: string): string {
  const at = requestText.indexOf('## Trace to judge');
  return at >= 0 ? requestText.slice(at) : requestText;
}

export function ruleDimensions(rule: Rule): string[] {
  return ['task_completion', ...(rule.judgeDimensions ?? DIMENSIONS_BY_CATEGORY[rule.category] ?? [])];
}

/** The answer to a `judge_<dimension>_v<n>` request; may be malformed on purpose (scenario tags). */
export function simulateRubricJudge(
  scenario: Scenario,
  schemaName: string,
  requestText: string,
  seed: number,
): Record<string, unknown> {
  const dimension = /^judge_([a-z_]+?)_v\d+$/.exec(schemaName)?.[1] ?? 'task_completion';
  const likert = /"score"|1 \(worst\) to 5/.test(requestText);
  const text = judgedPart(requestText);
  const example = findExample(scenario, text);
  const tags = example?.tags ?? [];
  if (
    tags.includes('judge-malformed') ||
    (tags.includes('judge-malformed-once') && !requestText.includes(REPAIR_MARKER))
  ) {
    return { verdict: 'maybe', rationale: 'unsure' };
  }
  const acted =
    /\[0\] action:\s*([A-Za-z0-9_]+)/.exec(text)?.[1] ?? /action:\s*([A-Za-z0-9_]+)/.exec(text)?.[1];
  const rule = scenario.rules.find((r) => r.id === example?.rule);
  let pass = !example || !acted || acted === example.expected.action;
  // Only the dimensions this failure mode breaks fail; the others are fine.
  const relevant = rule ? ruleDimensions(rule) : ['task_completion', 'tool_selection'];
  if (!pass && !relevant.includes(dimension) && !(likert && LIKERT_FAILS.has(dimension))) pass = true;
  if (unitInterval(`judge|${dimension}|${text}|${seed}`, scenario.seed) < scenario.noise.judge) pass = !pass;
  if (likert) {
    return pass
      ? { score: 5, rationale: `The agent's ${acted ?? 'reply'} fits the request.` }
      : {
          score: 2,
          rationale: `The agent called ${acted} where ${example?.expected.action ?? 'another step'} was needed.`,
        };
  }
  if (dimension === 'argument_extraction' && acted === 'respond') {
    return {
      verdict: 'not_applicable',
      failure_category: null,
      failing_step: null,
      rationale: 'No tool call was made.',
    };
  }
  if (dimension === 'result_utilization' && !/tool result/.test(text)) {
    return {
      verdict: 'not_applicable',
      failure_category: null,
      failing_step: null,
      rationale: 'No tool result to use.',
    };
  }
  if (dimension === 'error_recovery' && !/tool result[^\n]*: Error/.test(text)) {
    return {
      verdict: 'not_applicable',
      failure_category: null,
      failing_step: null,
      rationale: 'No tool call failed.',
    };
  }
  if (pass)
    return {
      verdict: 'pass',
      failure_category: null,
      failing_step: null,
      rationale: `The agent correctly chose ${acted}.`,
    };
  return {
    verdict: 'fail',
    failure_category: rule?.category ?? 'other',
    failing_step: 0,
    rationale: rule
      ? `${rule.judgeRationale} The agent called ${acted} instead of ${example!.expected.action}.`
      : `The agent called ${acted} although the request needed ${example?.expected.action ?? 'something else'}.`,
  };
}

/** The teacher's `cluster_diagnosis`: the failure mode most of the shown traces belong to. */
export function simulateClusterDiagnosis(scenario: Scenario, requestText: string): Record<string, unknown> {
  const sections = requestText.split(/^### trace /m).slice(1);
  const shown = sections.map((s) => {
    const id = s.slice(0, s.indexOf('\n')).trim();
    const example = findExample(scenario, s);
    return { id, example, rule: scenario.rules.find((r) => r.id === example?.rule) };
  });
  const counts = new Map<string, number>();
  for (const s of shown) if (s.rule) counts.set(s.rule.id, (counts.get(s.rule.id) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
  const rule = scenario.rules.find((r) => r.id === top);
  const evidence = shown.filter((s) => s.rule && s.rule.id === top).map((s) => s.id);
  const first = shown.find((s) => s.rule?.id === top) ?? shown[0];
  if (!rule) {
    return {
      category: 'planning',
      subtype: 'incomplete_task',
      root_cause: 'The failures share no known cause; the agent took an unexpected step.',
      failing_step: { step: 0, span_id: null, description: 'the agent step' },
      evidence_trace_ids: shown.slice(0, 1).map((s) => s.id),
      intervention: 'prompt',
      immediate_fix: 'Review these traces by hand.',
    };
  }
  const taxonomy = rule.taxonomy ??
    TAXONOMY_BY_CATEGORY[rule.category] ?? { category: 'planning', subtype: 'incomplete_task' };
  const rung = rule.rung ?? 'prompt';
  return {
    ...taxonomy,
    root_cause: rule.description,
    failing_step: {
      step: 0,
      span_id: null,
      description: `the agent called ${first?.example?.wrong.action ?? 'a wrong tool'} instead of ${first?.example?.expected.action ?? 'the right step'}`,
    },
    evidence_trace_ids: evidence.length ? evidence : shown.slice(0, 1).map((s) => s.id),
    intervention: rung,
    immediate_fix:
      rung === 'prompt'
        ? `Add to the system prompt: "${rule.fixingPhrases[0]}".`
        : `Change the ${rung} so that: ${rule.description}`,
  };
}
