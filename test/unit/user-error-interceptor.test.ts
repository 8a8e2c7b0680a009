import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityExecuteInput } from '@temporalio/worker';
import { NotFoundError } from '../../schemas/user-error.js';
import { userErrorInterceptor } from '../../workers/user-error-interceptor.js';

const input = { args: [], headers: {} } as unknown as ActivityExecuteInput;
const execute = userErrorInterceptor().inbound!.execute!;

describe('the activity user-error interceptor', () => {
  it('fails an activity for good when it throws a UserError, keeping the message', async () => {
    await assert.rejects(
      execute(input, () => Promise.reject(new NotFoundError('Unknown agent "nobody"'))),
      (e: unknown) =>
        e instanceof ApplicationFailure &&
        e.nonRetryable &&
        e.type === 'InvalidInput' &&
        e.message === 'Unknown agent "nobody"',
    );
  });

  it('leaves other errors and results alone, so they keep their retry policy', async () => {
    const transient = new Error('connection reset');
    await assert.rejects(
      execute(input, () => Promise.reject(transient)),
      (e: unknown) => e === transient,
    );
    assert.equal(await execute(input, () => Promise.resolve(42)), 42);
  });
});
