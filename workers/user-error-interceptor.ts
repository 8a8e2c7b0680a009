import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptors } from '@temporalio/worker';
import { FailureType } from '../schemas/failure-types.js';
import { UserError } from '../schemas/user-error.js';

/**
 * A UserError from any activity (an unknown agent, a bad configuration) fails the activity
 * for good: retrying cannot make the input valid. One interceptor on the worker, so domain
 * code throws its own errors and no activity converts them by hand.
 */
export function userErrorInterceptor(): ActivityInterceptors {
  return {
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (e) {
          if (e instanceof UserError)
            throw ApplicationFailure.nonRetryable(e.message, FailureType.InvalidInput);
          throw e;
        }
      },
    },
  };
}
