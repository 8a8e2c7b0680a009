import type { ActivityInterceptors } from '@temporalio/worker';
import { settleModelCallsOnFailure } from '../llm/model-calls-in-flight.js';

/**
 * An activity attempt that fails reports it only once the model calls it started have
 * settled, so each answer it paid for is in the response cache before the retry, on any
 * worker, looks for it (llm/model-calls-in-flight.ts). Innermost, so the heartbeat
 * interceptor keeps the attempt alive while it waits; the calls end at the model client's
 * timeout or at the attempt's cancellation at the latest.
 */
export function modelCallInterceptor(): ActivityInterceptors {
  return {
    inbound: {
      execute: (input, next) => settleModelCallsOnFailure(() => next(input)),
    },
  };
}
