import type { CoachingBehaviour, RecallMessage } from '../schemas/coaching.js';
import type { AgentAction } from '../schemas/trace.js';

/**
 * Turning a reviewer's correction into coaching: the situation suggested from the
 * conversation, and the behaviour from the corrected step.
 */

const ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant', 'tool']);

/**
 * Stored messages (a trace's input, a sample's redacted copy) as recall reads them: role and
 * text; anything else in the list is skipped, a message without text reads as empty.
 */
export function recallMessages(value: unknown): RecallMessage[] {
  if (!Array.isArray(value)) return [];
  const out: RecallMessage[] = [];
  for (const m of value) {
    if (m === null || typeof m !== 'object') continue;
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role === 'string' && ROLES.has(role))
      out.push({ role: role as RecallMessage['role'], content: typeof content === 'string' ? content : '' });
  }
  return out;
}

/** Characters of the request a suggested situation quotes. */
export const SUGGESTED_SITUATION_CHARS = 300;

/** The last user turn with text, trimmed; null when the conversation has none. */
export function lastRequest(messages: readonly RecallMessage[]): string | null {
  const last = messages.findLast((m) => m.role === 'user' && (m.content ?? '').trim() !== '');
  return last ? (last.content ?? '').trim() : null;
}

/**
 * The situation suggested for a correction, in the form reviewers know ("When replying to:
 * …"): the request the agent answered, quoted (its first 300 characters, on one line). Recall
 * compares a conversation's last user turn with it, so conversations asking much the same
 * recall it; the reviewer may widen it to the kind of request ("When a customer asks to move
 * a basic-economy flight"). Null when the conversation has no user turn to quote.
 */
export function suggestSituation(messages: readonly RecallMessage[]): string | null {
  const request = lastRequest(messages);
  if (request === null) return null;
  const oneLine = request.replace(/\s+/g, ' ');
  const quoted =
    oneLine.length > SUGGESTED_SITUATION_CHARS
      ? `${oneLine.slice(0, SUGGESTED_SITUATION_CHARS - 1).trimEnd()}…`
      : oneLine;
  return `When replying to: "${quoted}"`;
}

/**
 * The coaching behaviour a corrected step stands for: a reply for `respond`, else the tool
 * call with its arguments. Null for a reply without text (nothing to show the agent).
 */
export function behaviourFromCorrection(step: AgentAction): CoachingBehaviour | null {
  if (step.action === 'respond') {
    const text = (step.content ?? '').trim();
    return text === '' ? null : { kind: 'reply', text };
  }
  return { kind: 'tool_call', tool: step.action, arguments: step.arguments };
}

export interface ReviewLabel {
  reviewer: string;
  expected: unknown;
  createdAt: Date;
}

/**
 * Which label's correction becomes the coaching: the caller's own latest correction, else
 * the latest correction of anyone; null when no label corrected the step.
 */
export function pickCorrection<L extends ReviewLabel>(labels: readonly L[], reviewer: string): L | null {
  const corrected = labels
    .filter((l) => l.expected !== null && l.expected !== undefined)
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  return corrected.findLast((l) => l.reviewer === reviewer) ?? corrected.at(-1) ?? null;
}
