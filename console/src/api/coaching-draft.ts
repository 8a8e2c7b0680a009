import {
  recallMessages,
  suggestSituation as suggestedSituation,
} from '../../../coaching/coaching-correction.js';
import type { SuggestedSituation } from '../../../coaching/situation-suggestion.js';
import type { AgentAction, ChatMessage } from './types.js';
import type { paths } from './schema.js';

/** The coaching form's pure parts: what it starts from, and the body it sends. */

export type CreateCoachingBody =
  paths['/api/agents/{id}/coaching']['post']['requestBody']['content']['application/json'];
export type BehaviourKind = CreateCoachingBody['behaviour']['kind'];

/** What the form holds while a person writes the behaviour: every kind's fields, one shown at a time. */
export interface BehaviourDraft {
  kind: BehaviourKind;
  text: string;
  tool: string;
  arguments: string;
  reason: string;
}

/**
 * The situation a coaching for step `step` starts from while the model's suggestion is asked
 * for (and when that fails): the API's template for a correction (coaching/coaching-correction.ts,
 * which POST /api/items/{id}/coaching falls back to; pure, so the page runs the same code) over
 * the conversation before the step, "When replying to: …" the request the agent answered there.
 * Empty when no user turn comes before.
 */
export function suggestSituation(messages: readonly ChatMessage[], step: number): string {
  return suggestedSituation(recallMessages(messages.slice(0, step))) ?? '';
}

/** POST /api/agents/{id}/coaching/situation's answer. */
export type SituationSuggestion = SuggestedSituation;

/** What the form says about where the situation in its field came from. */
export type SuggestionState =
  | { state: 'asking' }
  | { state: 'answered'; suggestion: SituationSuggestion }
  | { state: 'failed'; message: string }
  | { state: 'edited' };

/** The line under the situation field: who suggested it, or what the reviewer can do. */
export function suggestionNote(s: SuggestionState): string {
  switch (s.state) {
    case 'asking':
      return 'Asking the model for a suggestion; the request is quoted meanwhile. You can edit it.';
    case 'edited':
      return 'Your wording.';
    case 'failed':
      return `No suggestion (${s.message}); the request is quoted. Edit it to describe the kind of request.`;
    case 'answered':
      return s.suggestion.source === 'model'
        ? 'Suggested by the model from the conversation. Edit it to fit.'
        : `Quoted from the request (${s.suggestion.fallbackReason ?? 'no model suggestion'}). Edit it to describe the kind of request.`;
  }
}

/** The step a message of the transcript took: its first tool call, or its reply. */
export function actionOfMessage(m: ChatMessage): AgentAction {
  const call = m.tool_calls?.[0];
  return call
    ? { action: call.name, arguments: call.arguments }
    : { action: 'respond', content: m.content ?? '' };
}

/**
 * The behaviour fields the form starts with: the expected step when the trace has one (what
 * a reviewer already said the agent should do), else the step the agent took, to correct.
 */
export function behaviourDraft(action: AgentAction | null): BehaviourDraft {
  const empty: BehaviourDraft = { kind: 'reply', text: '', tool: '', arguments: '{}', reason: '' };
  if (!action) return empty;
  if (action.action === 'respond') return { ...empty, text: action.content ?? '' };
  return {
    ...empty,
    kind: 'tool_call',
    tool: action.action,
    arguments: JSON.stringify(action.arguments ?? {}, null, 2),
  };
}

/** The behaviour to send, or what is wrong with the draft (said before any request). */
export function behaviourOf(
  draft: BehaviourDraft,
): { behaviour: CreateCoachingBody['behaviour'] } | { error: string } {
  switch (draft.kind) {
    case 'reply':
    case 'ask_confirmation':
      return draft.text.trim()
        ? { behaviour: { kind: draft.kind, text: draft.text.trim() } }
        : {
            error:
              draft.kind === 'reply'
                ? 'Write the reply the agent should give.'
                : 'Write the question the agent should ask.',
          };
    case 'transfer':
      return draft.reason.trim()
        ? { behaviour: { kind: 'transfer', reason: draft.reason.trim() } }
        : { error: 'Say why the agent should transfer to a human.' };
    case 'tool_call': {
      if (!draft.tool.trim()) return { error: 'Name the tool the agent should call.' };
      let args: unknown;
      try {
        args = JSON.parse(draft.arguments.trim() || '{}');
      } catch {
        return { error: 'The arguments must be a JSON object, e.g. {"reservation_id": "ZX9"}.' };
      }
      if (args === null || typeof args !== 'object' || Array.isArray(args))
        return { error: 'The arguments must be a JSON object, e.g. {"reservation_id": "ZX9"}.' };
      return {
        behaviour: { kind: 'tool_call', tool: draft.tool.trim(), arguments: args as Record<string, unknown> },
      };
    }
  }
}
