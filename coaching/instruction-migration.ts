import { z } from 'zod';
import type { ChatMessageIn } from '../llm/llm-client.js';
import { checkStructured } from '../llm/structured-output.js';
import { CoachingBehaviour } from '../schemas/coaching.js';
import { formatIssues } from '../schemas/format-issues.js';
import { MAX_SITUATION_WORDS } from './situation-suggestion.js';

/**
 * Contextual instructions in a system prompt ("When a customer asks to move a basic-economy
 * flight, explain that it cannot be changed and offer to cancel it") apply to one kind of
 * conversation but cost every conversation their tokens and attention. Migrating one turns it
 * into coaching: its situation, and the step the agent should take there as an example. This
 * file holds the request to the teacher model, the check of its answer against the prompt, and
 * the prompt without the instructions migrated; coaching/instruction-migration-service.ts asks
 * and stores.
 */

/** The structured-output schema (OpenAI's strict subset) the teacher answers in. */
export const INSTRUCTION_MIGRATION_SCHEMA = {
  name: 'contextual_instructions',
  schema: {
    type: 'object',
    properties: {
      instructions: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            instruction: { type: 'string' },
            situation: { type: 'string' },
            kind: { type: 'string', enum: ['reply', 'tool_call', 'ask_confirmation', 'transfer'] },
            text: { type: 'string' },
            tool: { type: 'string' },
            arguments: { type: 'string' },
          },
          required: ['instruction', 'situation', 'kind', 'text', 'tool', 'arguments'],
          additionalProperties: false,
        },
      },
    },
    required: ['instructions'],
    additionalProperties: false,
  },
};

/** Instructions one migration may propose; a prompt with more is better split by hand. */
export const MAX_MIGRATED = 20;

const SYSTEM = [
  "You find the contextual instructions in an AI agent's system prompt and rewrite each as a coaching example.",
  'A contextual instruction applies only in one kind of situation: "When a customer asks to move a basic-economy flight, explain that it cannot be changed and offer cancellation", "If the customer asks for a refund of a non-refundable fare, transfer them to a human". General instructions that apply to every conversation (tone, format, which tools exist, how to act in general) are not contextual: leave them out.',
  'For each contextual instruction answer:',
  '- "instruction": the instruction exactly as it is written in the prompt, one or more whole sentences copied character for character (it is removed from the prompt);',
  '- "situation": one sentence starting with "When" that says which conversations it applies to, general enough that every such conversation matches and narrow enough that others do not;',
  '- the step the agent should take in that situation, as the agent would take it: "kind" is "reply" (then "text" is the reply the agent writes to the customer, not a description of it), "tool_call" (then "tool" is the tool\'s name and "arguments" its JSON arguments as a string), "ask_confirmation" ("text": the question) or "transfer" ("text": why). Fields that do not apply are empty strings.',
  `At most ${MAX_MIGRATED} instructions. Answer with JSON only: {"instructions": [...]}, an empty list when there is none.`,
].join('\n');

/** The request to the teacher: the prompt, and the agent's tools so a step can name one. */
export function instructionMigrationPrompt(
  prompt: string,
  tools: readonly { name: string; description: string }[],
): ChatMessageIn[] {
  const user = [
    '<system_prompt>',
    prompt,
    '</system_prompt>',
    '',
    '<tools>',
    ...(tools.length === 0 ? ['(none)'] : tools.map((t) => `- ${t.name}: ${t.description}`)),
    '</tools>',
    '',
    'List the contextual instructions of this system prompt as coaching examples.',
  ].join('\n');
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: user },
  ];
}

/** The follow-up after an answer that failed its check: what was wrong, and to answer again. */
export function migrationRepairPrompt(error: string): string {
  return `Your answer cannot be used (${error}). Reply again with only the corrected JSON object {"instructions": [...]}; copy each instruction exactly as the prompt writes it.`;
}

const Answer = z.object({
  instructions: z
    .array(
      z.object({
        instruction: z.string(),
        situation: z.string(),
        kind: z.enum(['reply', 'tool_call', 'ask_confirmation', 'transfer']),
        text: z.string().default(''),
        tool: z.string().default(''),
        arguments: z.string().default(''),
      }),
    )
    .max(MAX_MIGRATED),
});

/** One instruction to migrate: the text removed from the prompt, and the coaching it becomes. */
export interface MigratedInstruction {
  instruction: string;
  situation: string;
  behaviour: CoachingBehaviour;
}

export type CheckedMigration =
  { ok: true; instructions: MigratedInstruction[] } | { ok: false; error: string };

const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

function behaviourOf(item: z.infer<typeof Answer>['instructions'][number]): CoachingBehaviour | string {
  let args: unknown = {};
  if (item.kind === 'tool_call' && item.arguments.trim() !== '') {
    try {
      args = JSON.parse(item.arguments);
    } catch {
      return `the arguments of tool "${item.tool}" are not JSON: ${item.arguments.slice(0, 100)}`;
    }
  }
  const raw =
    item.kind === 'tool_call'
      ? { kind: item.kind, tool: item.tool, arguments: args }
      : item.kind === 'transfer'
        ? { kind: item.kind, reason: item.text }
        : { kind: item.kind, text: item.text };
  const parsed = CoachingBehaviour.safeParse(raw);
  return parsed.success ? parsed.data : formatIssues(parsed.error, { root: 'step' });
}

/**
 * Checks the teacher's answer against the prompt it read: every instruction occurs in the
 * prompt exactly (so removing it is exact) and at most once, instructions do not overlap,
 * each situation starts with "When" and is short, each step is a valid behaviour naming one
 * of the agent's tools. The error says what to fix, for the repair round.
 */
export function checkMigrationAnswer(
  content: string | null,
  prompt: string,
  toolNames: readonly string[],
): CheckedMigration {
  const parsed = checkStructured(Answer, content);
  if (!parsed.ok) return parsed;
  const problems: string[] = [];
  const out: MigratedInstruction[] = [];
  const spans: [number, number][] = [];
  parsed.value.instructions.forEach((item, i) => {
    const at = `instruction ${i + 1}`;
    const instruction = item.instruction.trim();
    const start = prompt.indexOf(instruction);
    if (instruction === '' || start === -1) {
      problems.push(`${at} is not written in the prompt exactly: "${instruction.slice(0, 80)}"`);
      return;
    }
    if (prompt.indexOf(instruction, start + 1) !== -1)
      problems.push(`${at} occurs more than once in the prompt; quote enough of it to be unique`);
    const end = start + instruction.length;
    if (spans.some(([s, e]) => start < e && s < end)) problems.push(`${at} overlaps another instruction`);
    spans.push([start, end]);
    const situation = item.situation.replace(/\s+/g, ' ').trim();
    if (!/^(when|whenever|if)\b/i.test(situation))
      problems.push(`the situation of ${at} must start with "When"`);
    else if (words(situation).length > MAX_SITUATION_WORDS)
      problems.push(`the situation of ${at} has more than ${MAX_SITUATION_WORDS} words`);
    const behaviour = behaviourOf(item);
    if (typeof behaviour === 'string') problems.push(`the step of ${at}: ${behaviour}`);
    else if (behaviour.kind === 'tool_call' && !toolNames.includes(behaviour.tool))
      problems.push(
        `the step of ${at} calls "${behaviour.tool}", which is not one of the agent's tools (${toolNames.join(', ') || 'none'})`,
      );
    else out.push({ instruction, situation: situation.replace(/[.!?]$/, ''), behaviour });
  });
  if (problems.length > 0) return { ok: false, error: problems.join('; ') };
  return { ok: true, instructions: out };
}

/**
 * The prompt with the migrated instructions removed: each is cut out with the spaces around
 * it; a line it leaves empty (or holding only a list marker) goes with its line break, and
 * no more than one blank line is left in a row.
 */
export function promptWithout(prompt: string, instructions: readonly string[]): string {
  let text = prompt;
  const blank = (c: string | undefined) => c === ' ' || c === '\t';
  for (const instruction of instructions) {
    const start = text.indexOf(instruction);
    if (start === -1) continue;
    let from = start;
    let to = start + instruction.length;
    while (from > 0 && blank(text[from - 1])) from--;
    const lineStart = text.lastIndexOf('\n', from - 1) + 1;
    if (/^\s*(?:[-*•]|\d+[.)])?\s*$/.test(text.slice(lineStart, from))) {
      // Nothing but a list marker before it on its line: the marker goes too, and the
      // spaces after it, and the line itself when nothing follows on it.
      from = lineStart;
      while (to < text.length && blank(text[to])) to++;
      if (text[to] === '\n' || to === text.length) to = Math.min(text.length, to + 1);
    }
    text = text.slice(0, from) + text.slice(to);
  }
  return text
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
