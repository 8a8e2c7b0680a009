import type { Db } from '../db/connection.js';
import { noAnswerReason, withAnswerDeadline } from '../llm/answer-deadline.js';
import type { LlmClient } from '../llm/llm-client.js';
import { askCheckedJson } from '../llm/repair-round.js';
import { ForbiddenError, NotFoundError } from '../schemas/user-error.js';
import { agentReviewSetup } from './annotation-service.js';
import {
  checkLabelSuggestion,
  labelSuggestionPrompt,
  labelSuggestionRepairPrompt,
  LABEL_SUGGESTION_SCHEMA,
  type CheckedSuggestion,
} from './label-suggestion.js';
import { queueItem } from './store/annotation-reads.js';
import {
  forgetSuggestion,
  keepSuggestion,
  storedSuggestion,
  type StoredSuggestion,
} from './store/label-suggestion-repository.js';
import { expectedStepProblem } from './expected-step-check.js';
import { notAReviewer } from './reviewer-policy.js';
import { displayedCategory } from '../schemas/failure-category.js';

/**
 * `POST /api/items/:id/suggestion`: the teacher's suggested label for an item, asked the first
 * time a reviewer opens it (the console also asks for the next open item meanwhile, so a slow
 * model has answered by the time the reviewer gets there) and kept, so every reviewer of the
 * item sees the same one and the model is asked once. The model reads the queue's
 * PII-redacted copy, the one reviewers see.
 *
 * When no usable answer comes in time (no teacher configured, an error, a timeout, an answer
 * that fails its check twice) there is no suggestion, with the reason, and nothing is kept:
 * the next opening asks again. The reviewer labels as before meanwhile. (The model client's
 * response cache keeps answers at temperature 0, so an item whose two answers were unusable
 * gets the same two again until what the model reads changes; a timeout or an error is not
 * cached.) Two requests for one item in one process share one model call, and the first
 * caller's deadline; the first answer stored is the one kept.
 *
 * A kept suggestion is checked again against the agent's tools as they are now, so one that
 * names a call the tools no longer accept is forgotten and asked for again rather than taken
 * and refused. An item that needs no more labels gets none (nothing to spend a call on).
 */

/**
 * How long the request waits for the model; the reviewer can label meanwhile. Below the 60 s
 * a reverse proxy commonly allows a response (nginx's proxy_read_timeout), so the reviewer
 * gets the reason rather than a gateway timeout.
 */
export const SUGGESTION_TIMEOUT_MS = 45_000;

export interface SuggestionAnswer {
  suggestion: StoredSuggestion | null;
  /** Why there is no suggestion (no model, the model failed or answered unusably, nothing to judge). */
  unavailable: string | null;
}

export interface SuggestionDeps {
  db: Db;
  teacher: LlmClient | null;
}

export async function suggestLabel(
  deps: SuggestionDeps,
  itemId: string,
  reviewer: string,
  options: { timeoutMs?: number } = {},
): Promise<SuggestionAnswer> {
  const item = await queueItem(deps.db, itemId);
  if (!item) throw new NotFoundError(`No annotation item "${itemId}".`);
  const none = (unavailable: string): SuggestionAnswer => ({ suggestion: null, unavailable });
  const { tools, reviewers } = await agentReviewSetup(deps.db, item.agent);
  // A suggestion serves someone about to label: who may not label the agent's items gets
  // none, so the route spends no model call on them (the label would be refused anyway).
  const refused = notAReviewer(reviewers, reviewer, item.agent);
  if (refused) throw new ForbiddenError(`${refused} They get no suggested label either.`);
  const kept = await storedSuggestion(deps.db, itemId);
  if (kept && !expectedStepProblem(tools, kept.expected ?? undefined))
    return { suggestion: kept, unavailable: null };
  if (kept) await forgetSuggestion(deps.db, itemId);
  if (item.status === 'complete') return none('the item needs no more labels');
  if (item.queueStatus !== 'open') return none(`the queue is ${item.queueStatus}; it takes no more labels`);
  const teacher = deps.teacher;
  if (!teacher)
    return none(
      'no teacher model is configured (FLYWHEEL_LLM_BASE_URL, FLYWHEEL_TEACHER_MODEL), so nothing is suggested',
    );
  const prompt = labelSuggestionPrompt({
    input: item.input,
    output: item.output,
    tools,
    judgeLabel: item.judge_label,
    judgeCategory: displayedCategory(item.judge_category) ?? null,
    judgeExplanation: item.judge_explanation,
    failingFinding: item.failing_finding,
  });
  if (!prompt) return none('the item holds no conversation and step to judge');
  let checked: CheckedSuggestion | { ok: false; error: string };
  try {
    checked = await withAnswerDeadline(options.timeoutMs ?? SUGGESTION_TIMEOUT_MS, (signal) =>
      askCheckedJson(teacher, {
        jsonSchema: LABEL_SUGGESTION_SCHEMA,
        prompt,
        check: (content) => checkLabelSuggestion(content, tools),
        repairPrompt: labelSuggestionRepairPrompt,
        signal,
      }),
    );
  } catch (error) {
    return none(noAnswerReason(error));
  }
  if (!checked.ok) return none(`the teacher model's answer was not usable: ${checked.error.slice(0, 300)}`);
  // Outside the model's try: a database failure here is the API's 503, not the model's fault.
  return {
    suggestion: await keepSuggestion(deps.db, itemId, checked.suggestion, teacher.model),
    unavailable: null,
  };
}
