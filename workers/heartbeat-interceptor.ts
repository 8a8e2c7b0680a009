import { Context } from '@temporalio/activity';
import type { ActivityInterceptors } from '@temporalio/worker';

/**
 * Activities with a heartbeat timeout heartbeat on their own, every third of it, for as long
 * as they run. Their progress heartbeats come after each finished model call, and one call to
 * a slow model (a small model on a CPU with a long prompt, or a request queued behind others)
 * can take longer than the timeout: the server would then cancel a healthy attempt and retry
 * it from the start. A dead worker still stops heartbeating at once, and a hung request ends
 * at the model client's own timeout.
 */
export function heartbeatInterceptor(): ActivityInterceptors {
  return {
    inbound: {
      async execute(input, next) {
        const context = Context.current();
        const timeoutMs = context.info.heartbeatTimeoutMs;
        if (!timeoutMs) return next(input);
        const timer = setInterval(() => context.heartbeat(), Math.max(1000, Math.floor(timeoutMs / 3)));
        try {
          return await next(input);
        } finally {
          clearInterval(timer);
        }
      },
    },
  };
}
