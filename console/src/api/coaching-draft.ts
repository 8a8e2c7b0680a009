import {
  recallMessages,
  suggestSituation as suggestedSituation,
} from '../../../coaching/coaching-correction.js';
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
 * The situation a coaching for step `step` starts from: the API's own suggestion for a
 * correction (coaching/coaching-correction.ts, which POST /api/items/{id}/coaching uses; pure,
 * so the page runs the same code) over the conversation before the step, "When replying to:
 * …" the request the agent answered there. The reviewer widens it to the kind of request
 * ("When a customer asks to move a basic-economy flight"). Empty when no user turn comes before.
 */
export function suggestSituation(messages: readonly ChatMessage[], step: number): string {
  return suggestedSituation(recallMessages(messages.slice(0, step))) ?? '';
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
