import type { ChatMessageIn } from './llm-client.js';

/** A checked model answer: what was usable, or what to fix in a repair round. */
export type CheckedAnswer = { ok: true } | { ok: false; error: string };

/**
 * One answer checked and, when it fails its check, one repair round: the model sees its
 * answer and what was wrong, and answers again. The error of a second failure names both.
 * `ask` makes the call (model, schema, temperature and cache policy are the caller's).
 */
export async function askWithRepair<C extends CheckedAnswer>(
  ask: (messages: ChatMessageIn[]) => Promise<string | null>,
  prompt: ChatMessageIn[],
  check: (content: string | null) => C,
  repairPrompt: (error: string) => string,
): Promise<C | { ok: false; error: string }> {
  const first = await ask(prompt);
  const checked = check(first);
  if (checked.ok) return checked;
  const error = (checked as { error: string }).error;
  const again = check(
    await ask([
      ...prompt,
      { role: 'assistant', content: first ?? '' },
      { role: 'user', content: repairPrompt(error) },
    ]),
  );
  return again.ok
    ? again
    : { ok: false, error: `${error}; after the repair: ${(again as { error: string }).error}` };
}
