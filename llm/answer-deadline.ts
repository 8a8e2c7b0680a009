/**
 * How long a person waits for a model before the caller answers without it: rejects after
 * `ms` and aborts `controller`, so the request stops too (waiting in the client's queue for a
 * free slot counts). `clear` when the answer came first. Used where a reviewer is waiting on
 * a form (suggested situations, suggested labels), never in activities, whose timeouts
 * Temporal enforces.
 */
export function answerDeadline(
  ms: number,
  controller: AbortController,
  role = 'teacher',
): { promise: Promise<never>; clear(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`the ${role} model did not answer within ${Math.round(ms / 1000)} s`));
    }, ms);
  });
  promise.catch(() => undefined);
  return { promise, clear: () => clearTimeout(timer) };
}
