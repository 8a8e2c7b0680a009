import { z } from 'zod';
import type { ChatMessageIn } from '../llm/llm-client.js';
import { RecallMessage } from '../schemas/coaching.js';
import { formatIssues } from '../schemas/format-issues.js';
import { lastRequest, suggestSituation } from './coaching-correction.js';

/**
 * The situation a coaching applies to, written by a model from the conversation up to the
 * corrected step: one general sentence ("When a customer asks to move a basic-economy flight
 * to another date") that other conversations of the same kind match, instead of the quoted
 * request the template suggests. This file holds the request sent to the model and the check
 * of its answer; coaching/situation-suggestion-service.ts asks, and falls back to the template.
 */

/** Where a suggested situation came from: the model, or the template (coaching-correction.ts). */
export const SITUATION_SOURCES = ['model', 'template'] as const;
export type SituationSource = (typeof SITUATION_SOURCES)[number];

/** `POST /api/agents/:id/coaching/situation`: a step of a stored trace, or a conversation. */
export const SuggestSituationRequest = z
  .object({
    traceId: z.string().trim().min(1).max(200).optional().describe('The trace the coaching is written on'),
    step: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe("Index in the trace's messages of the step corrected (default: the trace's decision)"),
    messages: z
      .array(RecallMessage)
      .min(1)
      .max(500)
      .optional()
      .describe('The conversation up to the step, when it is not a stored trace'),
  })
  .refine((r) => (r.traceId === undefined) !== (r.messages === undefined), {
    message: 'give either traceId (and optionally step) or messages',
  })
  .refine((r) => r.step === undefined || r.traceId !== undefined, {
    message: 'step names a step of traceId: give the trace too',
  });
export type SuggestSituationRequest = z.infer<typeof SuggestSituationRequest>;

export interface SuggestedSituation {
  situation: string;
  source: SituationSource;
  /** Why the template was used (no model configured, the model failed or answered off-scope). */
  fallbackReason?: string;
}

/** The template's suggestion ("When replying to: …" the request); null without a user turn. */
export function templateSuggestion(
  messages: readonly RecallMessage[],
  fallbackReason?: string,
): SuggestedSituation | null {
  const situation = suggestSituation(messages);
  if (situation === null) return null;
  return { situation, source: 'template', ...(fallbackReason === undefined ? {} : { fallbackReason }) };
}

/** The structured-output schema (OpenAI's strict subset) the model answers in. */
export const SITUATION_SUGGESTION_SCHEMA = {
  name: 'coaching_situation',
  schema: {
    type: 'object',
    properties: { situation: { type: 'string' } },
    required: ['situation'],
    additionalProperties: false,
  },
};

/** Words a suggested situation may have; the template's quote is far longer. */
export const MAX_SITUATION_WORDS = 30;
/** Consecutive words of the request a situation may repeat before it is a quote. */
export const MAX_QUOTED_WORDS = 7;
/** Messages of the conversation shown to the model (the latest ones), and characters of each. */
const SHOWN_MESSAGES = 12;
const SHOWN_CHARS = 1500;

const SYSTEM = [
  'You write the situation a coaching memory applies to.',
  'A reviewer corrected what an AI agent did at one point of a conversation. The correction is shown to the agent again, as an example, in future conversations that are in the same situation, so the situation decides where it applies.',
  'Describe that situation in one sentence that starts with "When", for example "When a customer asks to move a basic-economy flight to another date" or "When a customer who was already asked for confirmation confirms a booking".',
  'Scope it like this:',
  "- general: other customers asking for the same kind of thing must match it. Never quote the customer's words, and never include names, user ids, reservation or order numbers, emails, phone numbers, dates, places or amounts of this one conversation;",
  '- not too broad: it must not match unrelated requests ("When a customer asks about a reservation" is too broad);',
  '- describe what the customer asks and, when it matters, where the conversation stands; not what the agent should answer.',
  `At most ${MAX_SITUATION_WORDS} words. Answer with JSON only: {"situation": "When ..."}.`,
].join('\n');

const clip = (text: string) =>
  text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS - 1).trimEnd()}…` : text;

/**
 * The request to the model for the conversation before the corrected step; null when the
 * conversation has no user turn (nothing to describe). System messages (the agent's prompt) are
 * left out: the situation is about the customer's request, not the agent's instructions.
 */
export function situationSuggestionPrompt(messages: readonly RecallMessage[]): ChatMessageIn[] | null {
  const request = lastRequest(messages);
  if (request === null) return null;
  const shown = messages
    .filter((m) => m.role !== 'system' && (m.content ?? '').trim() !== '')
    .slice(-SHOWN_MESSAGES)
    .map((m) => `[${m.role}] ${clip((m.content ?? '').trim())}`);
  const user = [
    '<conversation>',
    ...shown,
    '</conversation>',
    '',
    "The step corrected is the agent's next turn, which answers this last customer message:",
    '<request>',
    clip(request),
    '</request>',
    '',
    'Write the situation in which this correction applies.',
  ].join('\n');
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: user },
  ];
}

/** The follow-up after an answer that failed its check: what was wrong, and to answer again. */
export function situationRepairPrompt(error: string): string {
  return `Your answer cannot be used (${error}). Reply again with only the corrected JSON object {"situation": "When ..."}: one general sentence, no quoted words, names or ids.`;
}

const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/**
 * A token that identifies one record rather than a kind of request: letters mixed with digits
 * or underscores (ZFA04Y, mia_li_1222, HAT102).
 */
const ID_LIKE = /(?<![\p{L}\p{N}_])(?=[\p{L}\p{N}_]*\p{L})(?=[\p{L}\p{N}_]*[\p{N}_])[\p{L}\p{N}_]{4,}/u;
/** A redaction token ([EMAIL]) or a placeholder left unfilled. */
const TOKEN = /\[[A-Z_]+\]|<[^>]*>|\{[^}]*\}/;

/** The longest run of consecutive words the situation shares with the request. */
export function longestQuote(situation: string, request: string): number {
  const a = words(situation);
  const b = words(request);
  let best = 0;
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = a[i - 1] === b[j - 1] ? diagonal + 1 : 0;
      best = Math.max(best, row[j]!);
      diagonal = above;
    }
  }
  return best;
}

const Answer = z.object({ situation: z.string() });

export type CheckedSituation = { ok: true; situation: string } | { ok: false; error: string };

/**
 * Checks a model's answer for the request it was written from: JSON with a situation that is
 * one sentence starting with "When" (or "If"), short, without ids, tokens or a quote of the
 * request. The error says what to fix, for the repair round.
 */
export function checkSituationAnswer(content: string | null, request: string): CheckedSituation {
  let json: unknown;
  try {
    json = JSON.parse(content ?? '');
  } catch {
    return { ok: false, error: `not JSON: ${String(content).slice(0, 200)}` };
  }
  const parsed = Answer.safeParse(json);
  if (!parsed.success) return { ok: false, error: formatIssues(parsed.error, { root: '(answer)' }) };
  const situation = parsed.data.situation
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^["'“”]+|["'“”]+$/g, '')
    .trim();
  const n = words(situation).length;
  const problems: string[] = [];
  if (!/^(when|whenever|if)\b/i.test(situation)) problems.push('the situation must start with "When"');
  if (n < 4) problems.push('the situation is too short to say what the customer asks');
  if (n > MAX_SITUATION_WORDS)
    problems.push(`the situation has ${n} words, more than ${MAX_SITUATION_WORDS}`);
  const id = ID_LIKE.exec(situation)?.[0];
  if (id) problems.push(`"${id}" identifies one conversation (names and ids make it too narrow)`);
  if (TOKEN.test(situation)) problems.push('the situation contains a placeholder or redaction token');
  const quoted = longestQuote(situation, request);
  if (quoted > MAX_QUOTED_WORDS)
    problems.push(`it quotes ${quoted} words of the request in a row: describe the kind of request instead`);
  if (problems.length > 0) return { ok: false, error: problems.join('; ') };
  return { ok: true, situation: /[.!?]$/.test(situation) ? situation.slice(0, -1).trimEnd() : situation };
}
