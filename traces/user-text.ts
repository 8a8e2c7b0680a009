import { normalizeForDedup } from './near-duplicates.js';

/** The normalized user turns of a trace input: what exact and near dedup compare. */
export function userText(input: unknown): string {
  const messages =
    (input as { messages?: { role?: string; content?: string | null }[] } | null)?.messages ?? [];
  return normalizeForDedup(
    messages
      .filter((m) => m.role === 'user')
      .map((m) => m.content ?? '')
      .join('\n'),
  );
}
