import type { CoachingBehaviour, FewShotMessage } from '../schemas/coaching.js';

/**
 * How recalled coaching reaches the agent's model: few-shot examples in the OpenAI cookbook
 * form (system messages named `example_user` and `example_assistant`), after one system
 * message that says they apply only in their situation. A model that reads them needs no
 * knowledge of Flywheel; the texts below are the whole contract.
 */

export const COACHING_PREAMBLE =
  'Coaching from reviewers follows: each example applies only in the situation it names. Act as the example shows when the conversation is in that situation; otherwise ignore it.';

const SITUATION_PREFIX = 'Situation: ';

/** The behaviour as the assistant turn of the example. */
export function renderBehaviour(behaviour: CoachingBehaviour): string {
  switch (behaviour.kind) {
    case 'reply':
      return behaviour.text;
    case 'tool_call':
      return `Call ${behaviour.tool} with ${JSON.stringify(behaviour.arguments)}`;
    case 'ask_confirmation':
      return `Ask for confirmation before acting: ${behaviour.text}`;
    case 'transfer':
      return `Transfer to a human agent: ${behaviour.reason}`;
  }
}

export interface FormattableCoaching {
  situation: string;
  example: string | null;
  behaviour: CoachingBehaviour;
}

/** The two example messages of one coaching: the situation (and its example request), the behaviour. */
export function coachingExampleMessages(c: FormattableCoaching): FewShotMessage[] {
  const user = c.example
    ? `${SITUATION_PREFIX}${c.situation}\n${c.example}`
    : `${SITUATION_PREFIX}${c.situation}`;
  return [
    { role: 'system', name: 'example_user', content: user },
    { role: 'system', name: 'example_assistant', content: renderBehaviour(c.behaviour) },
  ];
}

/** The preamble then each coaching's examples, in the order given; nothing when none. */
export function fewShotMessages(coaching: readonly FormattableCoaching[]): FewShotMessage[] {
  if (coaching.length === 0) return [];
  return [{ role: 'system', content: COACHING_PREAMBLE }, ...coaching.flatMap(coachingExampleMessages)];
}

/**
 * Tokens a text takes, estimated at four characters a token (the usual figure for English
 * with OpenAI tokenizers) plus a few for the message's framing. A budget, not a bill.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4) + 4;
}

export const messagesTokens = (messages: readonly FewShotMessage[]) =>
  messages.reduce((sum, m) => sum + estimateTokens(m.content), 0);

export const PREAMBLE_TOKENS = estimateTokens(COACHING_PREAMBLE);
