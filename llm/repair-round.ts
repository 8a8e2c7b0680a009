import type { ChatMessageIn, LlmClient } from './llm-client.js';

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

/**
 * A structured answer from `client` with one repair round (askWithRepair), as the teacher's
 * reviewer-facing tasks ask: temperature 0 and seed 0, so the same request gets the same
 * answer, and offSchema 'cache', because the repair is a request of its own: asking again for
 * the same input pays for neither answer twice.
 */
export function askCheckedJson<C extends CheckedAnswer>(
  client: LlmClient,
  request: {
    jsonSchema: { name: string; schema: Record<string, unknown> };
    prompt: ChatMessageIn[];
    check: (content: string | null) => C;
    repairPrompt: (error: string) => string;
    signal?: AbortSignal;
  },
): Promise<C | { ok: false; error: string }> {
  const ask = async (messages: ChatMessageIn[]) =>
    (
      await client.chat(
        { messages, jsonSchema: request.jsonSchema, temperature: 0, seed: 0, offSchema: 'cache' },
        request.signal,
      )
    ).content;
  return askWithRepair(ask, request.prompt, request.check, request.repairPrompt);
}
