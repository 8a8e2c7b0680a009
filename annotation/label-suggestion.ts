import { z } from 'zod';
import type { Tool } from '../evaluation/tool-argument-validity.js';
import type { ChatMessageIn } from '../llm/llm-client.js';
import { FAILURE_CATEGORIES, type FailureCategory } from '../schemas/failure-category.js';
import { formatIssues } from '../schemas/format-issues.js';
import { AgentAction, ChatMessage } from '../schemas/trace.js';
import { describeParameters, expectedStepProblem } from './expected-step-check.js';

/**
 * A label suggested for an annotation item by the teacher model: the verdict, the failure
 * category and, for a failure, the step the agent should have taken (a corrected reply or a
 * tool call the agent's tools accept), with a one-sentence reason. The reviewer sees it next
 * to the form and takes it with one key or labels on their own; it never becomes a label by
 * itself. This file holds the request sent to the model and the check of its answer;
 * annotation/label-suggestion-service.ts asks and keeps it.
 *
 * Why the teacher: it is the role that reads failing conversations and writes what the agent
 * should do instead (diagnoses, prompt edits, coaching situations). The judge already gave its
 * verdict, and a correction written by the agent's own model would repeat its mistake.
 */

/** A suggested label, as stored and as the API answers it. */
export interface LabelSuggestion {
  verdict: 'pass' | 'fail';
  category: FailureCategory | null;
  /** The step the agent should have taken (`respond` with content for a reply); null: none suggested. */
  expected: AgentAction | null;
  reason: string;
}

/** The structured-output schema (OpenAI's strict subset) the model answers in. */
export const LABEL_SUGGESTION_SCHEMA = {
  name: 'label_suggestion',
  schema: {
    type: 'object',
    properties: {
      verdict: { type: 'string', enum: ['pass', 'fail'] },
      category: { type: 'string', enum: [...FAILURE_CATEGORIES, 'none'] },
      step: { type: 'string', enum: ['none', 'reply', 'tool_call'] },
      reply: { type: 'string' },
      tool: { type: 'string' },
      arguments: { type: 'string' },
      reason: { type: 'string' },
    },
    required: ['verdict', 'category', 'step', 'reply', 'tool', 'arguments', 'reason'],
    additionalProperties: false,
  },
};

/** Messages of the conversation shown (the latest ones), and characters of each. */
const SHOWN_MESSAGES = 16;
const SHOWN_CHARS = 1500;
/** Characters of the reason kept: one sentence, read next to the form. */
const MAX_REASON_CHARS = 400;

const SYSTEM = [
  'You help a reviewer label one step of an AI agent in a customer conversation.',
  "Read the conversation, the agent's tools, the step the agent took next and what the automatic evaluators said about it, and suggest the label the reviewer should give that step:",
  '- "verdict": "pass" when the step is what the agent should have done, else "fail". The evaluators can be wrong: judge the step yourself.',
  `- "category": for a failure, the kind of failure (${FAILURE_CATEGORIES.join(', ')}); "none" for a pass.`,
  '- for a failure, the step the agent should have taken instead: "step" is "reply" (then "reply" is the exact message the agent should write to the customer) or "tool_call" (then "tool" is one of the listed tools and "arguments" its arguments as a JSON object in a string, with the values taken from the conversation); "none" for a pass or when you cannot tell. Fields that do not apply are empty strings.',
  '- "reason": one short sentence the reviewer can check quickly, naming the fact or rule the verdict rests on.',
  'Answer with JSON only.',
].join('\n');

const clip = (text: string) =>
  text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS - 1).trimEnd()}…` : text;

/** One message of the conversation as the model reads it: role, text and any tool calls. */
function shownMessage(m: ChatMessage): string | null {
  const calls = (m.tool_calls ?? []).map((c) => `call ${c.name} ${JSON.stringify(c.arguments)}`);
  const text = (m.content ?? '').trim();
  if (text === '' && calls.length === 0) return null;
  return `[${m.role}${m.name ? ` ${m.name}` : ''}] ${clip([text, ...calls].filter((x) => x !== '').join('\n'))}`;
}

/** The step the agent took, in words: a tool call with its arguments, or the reply it wrote. */
export function agentStepText(step: AgentAction): string {
  return step.action === 'respond'
    ? `Replied: ${clip(step.content ?? '')}`
    : `Called tool ${step.action} with arguments ${JSON.stringify(step.arguments)}`;
}

/** What the item shows the model: its sampled conversation, the agent's step and the evaluators' view. */
export interface SuggestionContext {
  input: unknown;
  output: unknown;
  tools: readonly Tool[];
  judgeLabel: string;
  judgeCategory: string | null;
  judgeExplanation: string | null;
  failingFinding: string | null;
}

/**
 * The request to the model for one item; null when the item holds no conversation or no step
 * to judge (nothing to suggest). System messages (the agent's prompt) are left out: the label
 * is about this conversation, and prompts can be long.
 */
export function labelSuggestionPrompt(item: SuggestionContext): ChatMessageIn[] | null {
  const messages = ChatMessage.array().safeParse((item.input as { messages?: unknown } | null)?.messages);
  const step = AgentAction.safeParse(item.output);
  if (!messages.success || !step.success) return null;
  const shown = messages.data
    .filter((m) => m.role !== 'system')
    .slice(-SHOWN_MESSAGES)
    .map(shownMessage)
    .filter((m): m is string => m !== null);
  if (shown.length === 0) return null;
  const evaluators = [
    `verdict: ${item.judgeLabel}`,
    ...(item.judgeCategory ? [`category: ${item.judgeCategory}`] : []),
    ...(item.judgeExplanation ? [`explanation: ${clip(item.judgeExplanation)}`] : []),
    ...(item.failingFinding ? [`finding: ${clip(item.failingFinding)}`] : []),
  ];
  const user = [
    '<tools>',
    ...(item.tools.length === 0
      ? ['(the agent declares no tools)']
      : item.tools.map(
          (t) =>
            `- ${t.name}${t.description ? `: ${t.description}` : ''} (takes ${describeParameters(t.parameters)})`,
        )),
    '</tools>',
    '',
    '<conversation>',
    ...shown,
    '</conversation>',
    '',
    '<agent_step>',
    agentStepText(step.data),
    '</agent_step>',
    '',
    '<evaluators>',
    ...evaluators,
    '</evaluators>',
    '',
    "Suggest the reviewer's label for the agent's step.",
  ].join('\n');
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: user },
  ];
}

/** The follow-up after an answer that failed its check: what was wrong, and to answer again. */
export function labelSuggestionRepairPrompt(error: string): string {
  return `Your answer cannot be used (${error}). Reply again with only the corrected JSON object, with every field.`;
}

const Answer = z.object({
  verdict: z.enum(['pass', 'fail']),
  category: z.enum([...FAILURE_CATEGORIES, 'none']),
  step: z.enum(['none', 'reply', 'tool_call']),
  reply: z.string().default(''),
  tool: z.string().default(''),
  arguments: z.string().default(''),
  reason: z.string().default(''),
});

export type CheckedSuggestion = { ok: true; suggestion: LabelSuggestion } | { ok: false; error: string };

const ArgumentsObject = z.record(z.string(), z.unknown());

/**
 * The model's answer as a suggestion a label could carry, or what is wrong with it: a
 * failure's step must be a non-empty reply or a call the agent's tools accept (the check a
 * reviewer's label passes, expected-step-check.ts), so taking the suggestion is never refused.
 */
export function checkLabelSuggestion(content: string | null, tools: readonly Tool[]): CheckedSuggestion {
  let json: unknown;
  try {
    json = JSON.parse(content ?? '');
  } catch {
    return { ok: false, error: 'the answer is not JSON' };
  }
  const parsed = Answer.safeParse(json);
  if (!parsed.success) return { ok: false, error: formatIssues(parsed.error) };
  const a = parsed.data;
  const reason = a.reason.trim().slice(0, MAX_REASON_CHARS);
  if (reason === '') return { ok: false, error: 'reason is empty: say in one sentence why' };
  if (a.verdict === 'pass')
    return { ok: true, suggestion: { verdict: 'pass', category: null, expected: null, reason } };
  const category = a.category === 'none' ? 'other' : a.category;
  let expected: AgentAction | null = null;
  if (a.step === 'reply') {
    if (a.reply.trim() === '') return { ok: false, error: 'step is "reply" but reply is empty' };
    expected = { action: 'respond', arguments: {}, content: a.reply.trim() };
  }
  if (a.step === 'tool_call') {
    let args: unknown = {};
    if (a.arguments.trim() !== '') {
      try {
        args = JSON.parse(a.arguments);
      } catch {
        return { ok: false, error: `arguments is not a JSON object: ${a.arguments.slice(0, 200)}` };
      }
    }
    const object = ArgumentsObject.safeParse(args);
    if (!object.success)
      return { ok: false, error: 'arguments must be a JSON object such as {"order_id": "W123"}' };
    expected = { action: a.tool.trim(), arguments: object.data };
    if (expected.action === '') return { ok: false, error: 'step is "tool_call" but tool is empty' };
    const problem = expectedStepProblem(tools, expected);
    if (problem) return { ok: false, error: problem.message };
  }
  return { ok: true, suggestion: { verdict: 'fail', category, expected, reason } };
}
