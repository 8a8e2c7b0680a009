/** The model did not answer within the time a person waits for it. */
export class AnswerDeadlineError extends Error {}

/**
 * How long a person waits for a model before the caller answers without it: `ask` gets a
 * signal that aborts after `ms` (or when `options.signal` does), so the request stops too
 * (waiting in the client's queue for a free slot counts), and the answer rejects with
 * AnswerDeadlineError. Used where a reviewer is waiting on a form (suggested situations,
 * suggested labels), never in activities, whose timeouts Temporal enforces.
 */
export async function withAnswerDeadline<T>(
  ms: number,
  ask: (signal: AbortSignal) => Promise<T>,
  options: { signal?: AbortSignal; role?: string } = {},
): Promise<T> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(
        new AnswerDeadlineError(
          `the ${options.role ?? 'teacher'} model did not answer within ${Math.round(ms / 1000)} s`,
        ),
      );
    }, ms);
  });
  try {
    return await Promise.race([ask(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', abort);
  }
}

/** Why a model gave no answer, for the person waiting: the deadline in its own words, else what failed. */
export function noAnswerReason(error: unknown, role = 'teacher'): string {
  if (error instanceof AnswerDeadlineError) return error.message;
  return `the ${role} model failed: ${(error instanceof Error ? error.message : String(error)).slice(0, 300)}`;
}
