import type { AgentAction, ChatMessage } from '../schemas/trace.js';
import type { JudgeRubric } from '../evaluation/judge-rubrics.js';

/**
 * Every meta-prompt Flywheel sends, in one place, as readable templates. Keep wording
 * changes here: they change LLM cache keys, so they re-run calls rather than reuse them.
 */

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

// ── Judge rubrics ─────────────────────────────────────────────────────────────────
// One system prompt per rubric (evaluation/judge-rubrics.ts); the trace under judgement always
// follows a "## Trace to judge" heading, after any reviewer-corrected examples, so the
// examples can never be mistaken for the trace.

export function rubricSystemPrompt(rubric: JudgeRubric): string {
  const answer =
    rubric.scale === 'likert5'
      ? '- score: an integer from 1 (worst) to 5 (best).\n- rationale: one or two sentences citing the step or text that decided the score.'
      : `- verdict: "pass", "fail"${rubric.applicability ? `, or "not_applicable" (${rubric.applicability})` : ''}.
- failure_category: one of policy_violation, tool_selection, missing_confirmation, escalation,
  argument_error, other when the verdict is fail; null otherwise.
- failing_step: the number [n] of the first failing agent step, or null.
- rationale: one or two sentences naming what went wrong and why.`;
  return `You are a strict, consistent reviewer of a production LLM agent, judging one dimension only: ${rubric.title}.
Question: ${rubric.question}
Criteria:
${rubric.criteria.map((c) => `- ${c}`).join('\n')}
Judge only this dimension; other problems belong to other reviewers. Answer with JSON only:
${answer}`;
}

/** A conversation with its tool calls and tool results, as a judge needs to read it. */
export function renderTranscript(messages: readonly ChatMessage[]): string {
  return messages
    .filter((m) => m.role !== 'system')
    .map((m) => {
      const calls = (m.tool_calls ?? []).map((c) => `${c.name}(${JSON.stringify(c.arguments)})`);
      const text = m.content ?? '';
      if (m.role === 'tool') return `tool result${m.name ? ` (${m.name})` : ''}: ${text}`;
      return `${m.role}: ${text}${calls.length ? `${text ? ' ' : ''}[calls ${calls.join(', ')}]` : ''}`;
    })
    .join('\n');
}

export function renderSteps(steps: readonly AgentAction[]): string {
  return steps.map((s, i) => `[${i}] ${renderStep(s)}`).join('\n');
}

export interface JudgeExample {
  transcript: string;
  steps: string;
  verdict: string;
  note: string;
}

export function rubricUserPrompt(
  messages: readonly ChatMessage[],
  steps: readonly AgentAction[],
  examples: readonly JudgeExample[],
): string {
  const shots = examples.length
    ? `## Examples corrected by human reviewers (follow their judgement)\n${examples
        .map(
          (e, i) =>
            `### Example ${i + 1}\n${e.transcript}\nAgent steps:\n${e.steps}\nCorrect answer: ${e.verdict}. Reviewer: ${e.note}`,
        )
        .join('\n\n')}\n\n`
    : '';
  return `${shots}## Trace to judge\n### Conversation\n${renderTranscript(messages)}\n\n### Agent's steps\n${renderSteps(steps)}`;
}

/** Sent back once when the judge's answer did not match its schema. */
export function judgeRepairPrompt(error: string): string {
  return `Your answer did not match the required JSON schema: ${error}\nAnswer again with JSON only, exactly in the required shape.`;
}

// ── Cluster diagnosis ─────────────────────────────────────────────────────────────

export const DIAGNOSIS_SYSTEM = `You are a senior engineer diagnosing failures of a production LLM agent.
You read one cluster of similar failing traces and classify it with the failure taxonomy given,
name its root cause and the first failing step, and pick the cheapest intervention that would fix
it, from cheapest to costliest: prompt (a rule or example in the system prompt or a tool
description), tool (change a tool or its error handling), context (give the agent missing data or
retrieval), fine_tune, rl. Pick prompt only when a rule in the prompt can plausibly prevent the
failure. Cite evidence only from the trace ids shown. Answer with JSON only.`;

export interface DiagnosisMember {
  traceId: string;
  transcript: string;
  steps: string;
  failures: string;
}

export function diagnosisUserPrompt(
  cluster: { name: string; size: number },
  members: readonly DiagnosisMember[],
  taxonomy: readonly { category: string; subtype: string; description: string; rung: string }[],
): string {
  const tax = taxonomy
    .map((t) => `- ${t.category} / ${t.subtype}: ${t.description} (usual fix: ${t.rung})`)
    .join('\n');
  const shown = members
    .map(
      (m) => `### trace ${m.traceId}\n${m.transcript}\nAgent steps:\n${m.steps}\nWhat failed: ${m.failures}`,
    )
    .join('\n\n');
  return `## Taxonomy (category / subtype)\n${tax}\n\n## Cluster "${cluster.name}" (${cluster.size} failing traces; ${members.length} shown)\n${shown}\n\nDiagnose this cluster: category and subtype from the taxonomy, root_cause, failing_step (the step number [n] and span id when known), evidence_trace_ids (from the traces shown), intervention, and immediate_fix (the concrete change to make now).`;
}

/** Sent back once when a diagnosis did not match its schema or the taxonomy. */
export function diagnosisRepairPrompt(error: string): string {
  return `Your diagnosis was rejected: ${error}\nAnswer again with JSON only, using a category and subtype from the taxonomy and trace ids that were shown.`;
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

// ── Optimizer meta-prompts ────────────────────────────────────────────────────────
// One template per teacher task of the prompt optimizers (optimizers/prompt-search.ts).
// The current text always sits between <current_prompt> tags and examples are rendered
// the same way everywhere, so the teacher sees one format whichever optimizer asks.

export interface ExampleForTeacher {
  input: string;
  output: string;
  feedback: string;
}

export function renderExamples(examples: readonly ExampleForTeacher[]): string {
  return examples
    .map(
      (e, i) =>
        `### Example ${i + 1}\n<input>\n${e.input}\n</input>\n<output>\n${e.output}\n</output>\n<feedback>\n${e.feedback}\n</feedback>`,
    )
    .join('\n\n');
}

export const OPTIMIZER_SYSTEM = `You are an expert prompt engineer improving one part of the prompt of a
production LLM agent (its system prompt, a tool description, or its instructions). Rules must be
specific: over-broad rules fix one failure and break routine requests. Answer with JSON only.`;

/** Random-search baseline: independent rewrites. */
export function rewritePrompt(
  current: string,
  examples: readonly ExampleForTeacher[],
  count: number,
): string {
  return `<current_prompt>\n${current}\n</current_prompt>\n\n## Failures observed\n${renderExamples(examples)}\n\nPropose exactly ${count} candidates: each a complete rewritten text with a one-line rationale. Make the candidates differ from each other.`;
}

/** ProTeGi "gradient" (LMOps GRADIENT template, adapted to agents). */
export function critiquePrompt(
  current: string,
  examples: readonly ExampleForTeacher[],
  count: number,
): string {
  return `<current_prompt>\n${current}\n</current_prompt>\n\nBut this prompt gets the following examples wrong:\n\n${renderExamples(examples)}\n\nGive exactly ${count} reasons why the prompt could have gotten these examples wrong. Each reason should name what the prompt is missing or gets wrong, in one or two sentences.`;
}

/** ProTeGi edit: apply one critique. */
export function editPrompt(
  current: string,
  examples: readonly ExampleForTeacher[],
  critique: string,
  count: number,
): string {
  return `<current_prompt>\n${current}\n</current_prompt>\n\nBut it gets the following examples wrong:\n\n${renderExamples(examples)}\n\nBased on these examples the problem with this prompt is that:\n<critique>\n${critique}\n</critique>\n\nBased on the above information, write exactly ${count} different improved prompts. Each is a complete replacement of the current text.`;
}

/** ProTeGi Monte-Carlo expansion. */
export function paraphrasePrompt(text: string, count: number): string {
  return `Generate exactly ${count} variations of the following text, keeping every instruction and its meaning.\n<text>\n${text}\n</text>`;
}

/**
 * GEPA reflective mutation (gepa `instruction_proposal.py`, adapted). `tried`: rewrites of
 * this instruction already proposed and rejected, so the teacher does not write them again.
 */
export function reflectPrompt(
  current: string,
  examples: readonly ExampleForTeacher[],
  tried: readonly string[] = [],
): string {
  const avoid = tried.length
    ? `\n\nThese new instructions were already tried and did no better on the examples they were tried on; do not write any of them again:\n${tried.map((t) => `<tried_instruction>\n${t}\n</tried_instruction>`).join('\n')}`
    : '';
  return `I gave an assistant the following instruction to perform a task:\n<current_prompt>\n${current}\n</current_prompt>\n\nThe following are examples of inputs, the assistant's responses, and feedback on how the responses could be better:\n\n${renderExamples(examples)}\n\nYour task is to write a new instruction for the assistant. Read the inputs carefully and identify the input format and the task. Read the responses and the feedback; identify any niche, domain-specific facts the assistant needs (they may not be available to it later) and any generalizable strategy it used or should use, and include them in the instruction.${avoid}`;
}

const MIPRO_TIP_TEXT: Record<string, string> = {
  none: '',
  creative: "Don't be afraid to be creative when creating the new instruction!",
  simple: 'Keep the instruction clear and concise.',
  description: 'Make sure your instruction is very informative and descriptive.',
  high_stakes:
    'The instruction should include a high stakes scenario in which the agent must solve the task!',
  persona: 'Include a persona that is relevant to the task in the instruction (ie. "You are a ...")',
};

/** MIPRO grounded proposer: a dataset summary, dataset examples, a demo set and a random tip. */
export function instructPrompt(
  current: string,
  examples: readonly ExampleForTeacher[],
  demos: string | null,
  tip: string,
  summary: string | null = null,
): string {
  const tipText = MIPRO_TIP_TEXT[tip] ?? tip;
  return `<current_prompt>\n${current}\n</current_prompt>\n\n${summary ? `## What the whole dataset shows\n<dataset_summary>\n${summary}\n</dataset_summary>\n\n` : ''}## Examples from the dataset, with how the current prompt does on them\n${renderExamples(examples)}\n${demos ? `\n## Demonstrations the agent will also see\n${demos}\n` : ''}\n${tipText ? `Tip: ${tipText}\n\n` : ''}Propose one improved instruction for this agent, grounded in ${summary ? 'the summary and ' : ''}the examples above.`;
}

/**
 * MIPRO dataset summary, one batch at a time (MIPROv2's dataset descriptor with prior
 * observations, folded into one call per batch): the observations so far plus what this
 * batch adds, so the last answer covers the whole split.
 */
export function summarizePrompt(prior: string | null, examples: readonly ExampleForTeacher[]): string {
  return `You are reading the dataset an agent is evaluated on, one batch at a time, to help write its instructions.\n\n${prior ? `## Observations on the batches before\n<prior_observations>\n${prior}\n</prior_observations>\n\n` : ''}## This batch: each request, the step the current prompt took where it was run, and the expected step\n${renderExamples(examples)}\n\nWrite the observations on the whole dataset so far: the kinds of requests, what the expected steps require (policies, order of steps, when to refuse or escalate), and the patterns in the failures. Keep every prior observation that still holds and add what this batch shows; one observation per line.`;
}

/** A few-shot demonstration block appended to the system prompt (MIPRO demo sets). */
export function renderDemos(demos: readonly { input: string; output: string }[]): string {
  return `## Examples of correct behaviour\n${demos.map((d) => `${d.input}\n${d.output}`).join('\n\n')}`;
}
