import type { ActivityOptions, RetryPolicy } from '@temporalio/workflow';
import { FailureType } from '../schemas/failure-types.js';

/** Every activity: bad input is final, anything else (a lost worker, a busy database) is retried. */
export const DEFAULT_RETRY: RetryPolicy = {
  maximumAttempts: 10,
  nonRetryableErrorTypes: [FailureType.InvalidInput],
};

/** Activities that call a model: a refused request is final too. */
export const LLM_RETRY: RetryPolicy = {
  maximumAttempts: 10,
  nonRetryableErrorTypes: [FailureType.InvalidInput, FailureType.LlmBadRequest],
};

/** Short steps: reads, writes and single decisions. */
export const LIGHT_ACTIVITY: ActivityOptions = { startToCloseTimeout: '2 minutes', retry: DEFAULT_RETRY };

/**
 * Steps that make many model calls: heartbeats let a dead worker be noticed in a minute
 * rather than after the whole timeout, and per-example scores in Postgres make retries resume.
 */
export const HEAVY_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: LLM_RETRY,
};
