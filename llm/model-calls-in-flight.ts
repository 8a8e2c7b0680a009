import { AsyncLocalStorage } from 'node:async_hooks';
import type { LlmClient } from './llm-client.js';

/**
 * The model calls one unit of work (an activity attempt) started and that have not settled.
 *
 * A paid answer is safe from being paid again only once it is in the response cache. An
 * attempt can fail while calls it started are still out: a `Promise.all` rejects at its first
 * failure and leaves its siblings running, and a lost database fails one call at once while
 * another still waits for its answer. If the attempt reports that failure straight away, its
 * retry (on any worker, a second later) asks the cache before those answers reach it and pays
 * for them again (bench:faults: two judge calls paid a second time 0.9 s after their first
 * answers, next to a PostgreSQL restart). `settleModelCallsOnFailure` holds the failure back
 * until every call started inside it has settled, its answer cached or its error known.
 */
const calls = new AsyncLocalStorage<Set<Promise<void>>>();

/** `call`, counted as in flight for the unit of work it runs in (if any) until it settles. */
export function trackModelCall<T>(call: Promise<T>): Promise<T> {
  const open = calls.getStore();
  if (open) {
    const settled = call.then(
      () => undefined,
      () => undefined,
    );
    open.add(settled);
    void settled.then(() => open.delete(settled));
  }
  return call;
}

/**
 * Runs `work`; when it fails, rejects only after every model call it started has settled
 * (calls started while waiting, by work still running, are waited for too).
 */
export async function settleModelCallsOnFailure<T>(work: () => Promise<T>): Promise<T> {
  const open = new Set<Promise<void>>();
  return calls.run(open, async () => {
    try {
      return await work();
    } catch (error) {
      while (open.size > 0) await Promise.all([...open]);
      throw error;
    }
  });
}

/** A client whose calls count as in flight for the unit of work that makes them. */
export function trackedLlmClient(client: LlmClient): LlmClient {
  return {
    get model() {
      return client.model;
    },
    chat: (request, signal) => trackModelCall(client.chat(request, signal)),
    embed: (texts, signal) => trackModelCall(client.embed(texts, signal)),
  };
}
