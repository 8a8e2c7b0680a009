import { z } from 'zod';
import type { Db } from '../db/connection.js';
import { queueItem, traceAnnotationItems } from '../annotation/store/annotation-reads.js';
import type { ArtifactChangeResult } from '../registry/artifact-service.js';
import { resourceOwners } from '../registry/resource-owner-service.js';
import { formatIssues } from '../schemas/format-issues.js';
import { AgentAction } from '../schemas/trace.js';
import { ConflictError, NotFoundError, UserError } from '../schemas/user-error.js';
import {
  behaviourFromCorrection,
  lastRequest,
  pickCorrection,
  recallMessages,
} from './coaching-correction.js';
import { createCoaching, type CoachingDeps, type CoachingView } from './coaching-service.js';
import { templateSuggestion, type SituationSource } from './situation-suggestion.js';
import { suggestSituationFor, type SituationDeps } from './situation-suggestion-service.js';

/**
 * "A reviewer's correction in the queue becomes coaching in one action": from an annotation
 * item whose label corrected the agent's step, a coaching memory whose behaviour is that
 * corrected step, whose situation is suggested from the conversation by the teacher model
 * (else the template, "When replying to: …"; or the reviewer's own wording), linked to the
 * item's trace and its decision step. Everything taken from the conversation is the queue's
 * PII-redacted copy, the one reviewers saw (the teacher reads it too): coaching is shown to
 * the agent's model in other people's conversations.
 */

export const CoachingFromItemRequest = z.object({
  situation: z
    .string()
    .trim()
    .min(3)
    .max(2000)
    .optional()
    .describe(
      'When the coaching applies; default: suggested from the conversation by the teacher model ("When a customer asks to …"), else quoted ("When replying to: …")',
    ),
  threshold: z.number().min(0).max(1).optional(),
  reason: z.string().trim().min(1).max(2000).optional(),
});

/** The example request a coaching keeps (CreateCoachingRequest's limit). */
const MAX_EXAMPLE_CHARS = 4000;

/** The agent an annotation item belongs to; 404 for an unknown item. */
export async function itemAgent(db: Db, itemId: string): Promise<string> {
  const agent = await resourceOwners.item(db, itemId);
  if (!agent) throw new NotFoundError(`No annotation item "${itemId}"; nothing was stored.`);
  return agent;
}

export interface CoachingFromItem {
  coaching: CoachingView;
  change: ArtifactChangeResult;
  itemId: string;
  /** Whose correction became the behaviour. */
  correctionBy: string;
  /**
   * The situation suggested from the conversation (used unless the request named one): the
   * teacher model's when the request named none and it answered, else the template's.
   */
  suggestedSituation: string | null;
  /** Where the suggestion came from; null when the conversation had no user turn. */
  suggestionSource: SituationSource | null;
  /** Why the template was suggested instead of the model's answer. */
  suggestionFallback?: string;
}

/** The coaching service's dependencies, and the teacher model that suggests situations. */
export type CoachingFromItemDeps = CoachingDeps & Pick<SituationDeps, 'teacher'>;

/**
 * Creates the coaching from item `itemId`'s correction: `reviewer` (the caller's user name, as
 * labels record it) picks their own latest correction when they gave one, else the latest
 * anyone gave; `author` (the principal label) is the coaching's author.
 */
export async function coachingFromItem(
  deps: CoachingFromItemDeps,
  itemId: string,
  input: unknown,
  caller: { reviewer: string; author: string },
): Promise<CoachingFromItem> {
  const parsed = CoachingFromItemRequest.safeParse(input ?? {});
  if (!parsed.success)
    throw new UserError(`The request is not valid (${formatIssues(parsed.error)}); nothing was stored.`);
  const req = parsed.data;
  const agent = await itemAgent(deps.db, itemId);
  const item = await queueItem(deps.db, itemId);
  if (!item) throw new NotFoundError(`No annotation item "${itemId}"; nothing was stored.`);
  const labels =
    (await traceAnnotationItems(deps.db, item.trace_id)).find((i) => i.id === itemId)?.labels ?? [];
  const chosen = pickCorrection(
    labels.map((l) => ({ reviewer: l.reviewer, expected: l.expected, createdAt: new Date(l.created_at) })),
    caller.reviewer,
  );
  if (!chosen)
    throw new ConflictError(
      `Item ${itemId} has no corrected step yet: label it with the step the agent should have taken (expected), e.g. \`flywheel annotate ${itemId} --verdict fail --expected '{"action":"respond","content":"…"}'\` or POST /api/items/${itemId}/annotations, then run this again. Nothing was stored.`,
    );
  const step = AgentAction.safeParse(chosen.expected);
  const behaviour = step.success ? behaviourFromCorrection(step.data) : null;
  if (!behaviour)
    throw new UserError(
      `${chosen.reviewer}'s correction of item ${itemId} has no step to coach (a reply needs its text); correct the label first. Nothing was stored.`,
    );
  const sampled = item.input;
  const messages = recallMessages(
    sampled !== null && typeof sampled === 'object' ? (sampled as { messages?: unknown }).messages : [],
  );
  // The model is asked only when its answer is used; a reviewer's own wording needs none.
  const suggestion =
    req.situation === undefined
      ? await suggestSituationFor(deps.teacher ?? null, messages)
      : templateSuggestion(messages);
  const suggested = suggestion?.situation ?? null;
  const situation = req.situation ?? suggested;
  if (situation === null)
    throw new UserError(
      `Item ${itemId}'s conversation has no user turn to suggest a situation from: say when the coaching applies (situation). Nothing was stored.`,
    );
  const example = lastRequest(messages)?.slice(0, MAX_EXAMPLE_CHARS) ?? null;
  const created = await createCoaching(
    deps,
    agent,
    {
      situation,
      behaviour,
      ...(example === null ? {} : { example }),
      sourceTraceId: item.trace_id,
      ...(req.threshold === undefined ? {} : { threshold: req.threshold }),
      reason: req.reason ?? `from review item ${itemId}: ${chosen.reviewer}'s correction`,
    },
    caller.author,
  );
  return {
    ...created,
    itemId,
    correctionBy: chosen.reviewer,
    suggestedSituation: suggested,
    suggestionSource: suggestion?.source ?? null,
    ...(suggestion?.fallbackReason === undefined ? {} : { suggestionFallback: suggestion.fallbackReason }),
  };
}
