import type { Db } from '../db/connection.js';
import type { LlmClient } from '../llm/llm-client.js';
import { noAnswerReason, withAnswerDeadline } from '../llm/answer-deadline.js';
import { askCheckedJson } from '../llm/repair-round.js';
import { formatIssues } from '../schemas/format-issues.js';
import type { RecallMessage } from '../schemas/coaching.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';
import { showTrace } from '../traces/trace-viewer-service.js';
import { lastRequest, recallMessages } from './coaching-correction.js';
import {
  checkSituationAnswer,
  situationRepairPrompt,
  situationSuggestionPrompt,
  SITUATION_SUGGESTION_SCHEMA,
  SuggestSituationRequest,
  templateSuggestion,
  type SuggestedSituation,
} from './situation-suggestion.js';

/**
 * A coaching's situation suggested by the teacher model from the conversation up to the
 * corrected step, as `POST /api/agents/:id/coaching/situation`, `flywheel coaching suggest`
 * and `coaching from-item` share it. The teacher writes it: it is the role that reads
 * conversations and writes guidance for the agent (prompt edits, cluster diagnoses), and the
 * situation becomes part of what the agent is shown, which the agent's own model must not
 * write for itself. Whenever the model cannot give a usable answer in time (none configured,
 * an error, a timeout, an answer off its schema or off-scope twice) the suggestion is the
 * template ("When replying to: …"), and says so: a reviewer is waiting on a form.
 */

/** How long a reviewer waits for the model before the template is suggested instead. */
export const SITUATION_TIMEOUT_MS = 20_000;

export interface SituationOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * The situation for the conversation before a corrected step: the teacher's, else the
 * template's; null when the conversation has no user turn to describe.
 */
export async function suggestSituationFor(
  teacher: LlmClient | null,
  messages: readonly RecallMessage[],
  options: SituationOptions = {},
): Promise<SuggestedSituation | null> {
  const request = lastRequest(messages);
  const prompt = situationSuggestionPrompt(messages);
  if (request === null || prompt === null) return null;
  const fallback = (fallbackReason: string) => templateSuggestion(messages, fallbackReason);
  if (!teacher)
    return fallback(
      'no teacher model is configured (FLYWHEEL_LLM_BASE_URL, FLYWHEEL_TEACHER_MODEL), so the request is quoted',
    );
  try {
    const checked = await withAnswerDeadline(
      options.timeoutMs ?? SITUATION_TIMEOUT_MS,
      (signal) =>
        askCheckedJson(teacher, {
          jsonSchema: SITUATION_SUGGESTION_SCHEMA,
          prompt,
          check: (content) => checkSituationAnswer(content, request),
          repairPrompt: situationRepairPrompt,
          signal,
        }),
      options.signal ? { signal: options.signal } : {},
    );
    if (checked.ok) return { situation: checked.situation, source: 'model' };
    return fallback(`the teacher model's answer was not usable: ${checked.error.slice(0, 300)}`);
  } catch (error) {
    return fallback(noAnswerReason(error));
  }
}

export interface SituationDeps {
  db: Db;
  /** The teacher model; absent: the template is suggested. */
  teacher?: LlmClient | null;
}

/**
 * The suggestion for a step of one of `agent`'s traces (the conversation as the trace viewer
 * shows it, PII-redacted) or for a conversation given as messages.
 */
export async function suggestCoachingSituation(
  deps: SituationDeps,
  agent: string,
  input: unknown,
  options: SituationOptions = {},
): Promise<SuggestedSituation> {
  const parsed = SuggestSituationRequest.safeParse(input ?? {});
  if (!parsed.success)
    throw new UserError(`The situation request is not valid (${formatIssues(parsed.error)}).`);
  const req = parsed.data;
  let messages: RecallMessage[];
  let where: string;
  if (req.traceId !== undefined) {
    const trace = await showTrace(deps.db, req.traceId).catch((error: unknown) => {
      if (error instanceof NotFoundError) return null;
      throw error;
    });
    if (!trace || trace.trace.agent !== agent)
      throw new NotFoundError(`Agent ${agent} has no trace ${req.traceId}.`);
    const all = trace.transcript.messages;
    const step = req.step ?? all.length;
    if (step > all.length)
      throw new UserError(
        `Trace ${req.traceId} has ${all.length} messages before its decision, so step ${step} is not in it (steps 0-${all.length}).`,
      );
    messages = recallMessages(all.slice(0, step));
    where = `step ${step} of trace ${req.traceId}`;
  } else {
    messages = req.messages ?? [];
    where = 'the conversation';
  }
  const suggested = await suggestSituationFor(deps.teacher ?? null, messages, options);
  if (!suggested)
    throw new UserError(
      `No user turn comes before ${where}, so there is no request to describe: write the situation yourself.`,
    );
  return suggested;
}
