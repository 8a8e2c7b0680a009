import type { Db } from '../db/connection.js';
import { answerDeadline } from '../llm/answer-deadline.js';
import type { ChatMessageIn, LlmClient } from '../llm/llm-client.js';
import { askWithRepair } from '../llm/repair-round.js';
import { NotFoundError } from '../schemas/user-error.js';
import { agentTools } from './annotation-service.js';
import {
  checkLabelSuggestion,
  labelSuggestionPrompt,
  labelSuggestionRepairPrompt,
  LABEL_SUGGESTION_SCHEMA,
  type CheckedSuggestion,
} from './label-suggestion.js';
import { queueItem } from './store/annotation-reads.js';
import {
  keepSuggestion,
  storedSuggestion,
  type StoredSuggestion,
} from './store/label-suggestion-repository.js';

/**
 * `POST /api/items/:id/suggestion`: the teacher's suggested label for an item, asked the first
 * time a reviewer opens it (the console also asks for the next open item meanwhile, so a slow
 * model has answered by the time the reviewer gets there) and kept, so every reviewer of the
 * item sees the same one and the model is asked once. The model reads the queue's
 * PII-redacted copy, the one reviewers see.
 *
 * When no usable answer comes in time (no teacher configured, an error, a timeout, an answer
 * that fails its check twice) there is no suggestion, with the reason, and nothing is kept:
 * the next opening asks again. The reviewer labels as before meanwhile.
 */

/** How long the request waits for the model; the reviewer can label meanwhile. */
export const SUGGESTION_TIMEOUT_MS = 60_000;

export interface SuggestionAnswer {
  suggestion: StoredSuggestion | null;
  /** Why there is no suggestion (no model, the model failed or answered unusably, nothing to judge). */
  unavailable: string | null;
}

export interface SuggestionDeps {
  db: Db;
  teacher: LlmClient | null;
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 300);

async function askTeacher(
  teacher: LlmClient,
  prompt: ChatMessageIn[],
  check: (content: string | null) => CheckedSuggestion,
  signal: AbortSignal,
) {
  const ask = async (messages: ChatMessageIn[]) =>
    (
      await teacher.chat(
        // offSchema 'cache': the repair is a request of its own (see situation-suggestion-service.ts).
        { messages, jsonSchema: LABEL_SUGGESTION_SCHEMA, temperature: 0, seed: 0, offSchema: 'cache' },
        signal,
      )
    ).content;
  return askWithRepair(ask, prompt, check, labelSuggestionRepairPrompt);
}

export async function suggestLabel(
  deps: SuggestionDeps,
  itemId: string,
  options: { timeoutMs?: number } = {},
): Promise<SuggestionAnswer> {
  const item = await queueItem(deps.db, itemId);
  if (!item) throw new NotFoundError(`No annotation item "${itemId}".`);
  const kept = await storedSuggestion(deps.db, itemId);
  if (kept) return { suggestion: kept, unavailable: null };
  const none = (unavailable: string): SuggestionAnswer => ({ suggestion: null, unavailable });
  if (!deps.teacher)
    return none(
      'no teacher model is configured (FLYWHEEL_LLM_BASE_URL, FLYWHEEL_TEACHER_MODEL), so nothing is suggested',
    );
  const tools = await agentTools(deps.db, item.agent);
  const prompt = labelSuggestionPrompt({
    input: item.input,
    output: item.output,
    tools,
    judgeLabel: item.judge_label,
    judgeCategory: item.judge_category,
    judgeExplanation: item.judge_explanation,
    failingFinding: item.failing_finding,
  });
  if (!prompt) return none('the item holds no conversation and step to judge');
  const controller = new AbortController();
  const timeout = answerDeadline(options.timeoutMs ?? SUGGESTION_TIMEOUT_MS, controller);
  try {
    const checked = await Promise.race([
      askTeacher(deps.teacher, prompt, (content) => checkLabelSuggestion(content, tools), controller.signal),
      timeout.promise,
    ]);
    if (!checked.ok) return none(`the teacher model's answer was not usable: ${checked.error.slice(0, 300)}`);
    return {
      suggestion: await keepSuggestion(deps.db, itemId, checked.suggestion, deps.teacher.model),
      unavailable: null,
    };
  } catch (error) {
    return none(`the teacher model failed: ${reasonOf(error)}`);
  } finally {
    timeout.clear();
  }
}
