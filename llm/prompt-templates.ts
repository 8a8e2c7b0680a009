import type { AgentAction, ChatMessage } from '../schemas/trace.js';

/**
 * Every meta-prompt Flywheel sends, in one place, as readable templates. Keep wording
 * changes here: they change LLM cache keys, so they re-run calls rather than reuse them.
 */

export const JUDGE_SYSTEM = `You are a strict reviewer of an airline-style customer service agent.
Judge whether the agent's single step (a tool call or a reply) was the right next step for the
user's request under the agent's policy. Answer with JSON only.
- verdict: "pass" if the step is correct, "fail" otherwise.
- failure_category: one of policy_violation, tool_selection, missing_confirmation, escalation,
  argument_error, other; null when the verdict is pass.
- rationale: one or two sentences naming what went wrong and why.`;

export function renderStep(step: AgentAction): string {
  const args = Object.keys(step.arguments).length ? JSON.stringify(step.arguments) : '{}';
  return `action: ${step.action}\narguments: ${args}${step.content ? `\nreply: ${step.content}` : ''}`;
}

export function renderConversation(messages: readonly ChatMessage[]): string {
  return messages
    .filter((m) => m.role !== 'system')
    .map((m) => `${m.role}: ${m.content ?? ''}`)
    .join('\n');
}

export function judgeUserPrompt(messages: readonly ChatMessage[], step: AgentAction): string {
  return `## Conversation\n${renderConversation(messages)}\n\n## Agent's step\n${renderStep(step)}`;
}

export const TEACHER_SYSTEM = `You are an expert prompt engineer improving the system prompt of a
production LLM agent. You read concrete failures (what the user asked, what the agent did, what
reviewers and the judge said) and rewrite the whole system prompt so the agent avoids them,
without breaking what already works. Keep rules specific; over-broad rules cause regressions.
Answer with JSON only.`;

export interface FailureForTeacher {
  category: string;
  count: number;
  examples: { request: string; agentStep: string; critique: string }[];
}

export function teacherUserPrompt(
  currentPrompt: string,
  failures: readonly FailureForTeacher[],
  count: number,
): string {
  const report = failures
    .map(
      (f) =>
        `### ${f.category} (${f.count} failing traces)\n` +
        f.examples
          .map(
            (e) =>
              `- user: ${e.request}\n  agent: ${e.agentStep.replace(/\n/g, '; ')}\n  critique: ${e.critique}`,
          )
          .join('\n'),
    )
    .join('\n\n');
  return `<current_prompt>\n${currentPrompt}\n</current_prompt>\n\n## Failures observed this week\n${report}\n\nPropose exactly ${count} candidates: each a complete rewritten system prompt with a one-line rationale. Make the candidates differ from each other.`;
}
