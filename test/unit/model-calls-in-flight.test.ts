import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ChatRequest, ChatResponse, LlmClient } from '../../llm/llm-client.js';
import { trackedLlmClient } from '../../llm/model-calls-in-flight.js';
import { modelCallInterceptor } from '../../workers/model-call-interceptor.js';

const answer = (content: string): ChatResponse => ({
  content,
  toolCalls: [],
  usage: { promptTokens: 1, completionTokens: 1 },
  cached: false,
});

/**
 * A model client standing for the real one: a request whose content is "slow" is answered (and
 * its answer cached) only when the test releases it; "fail" fails at once, as a call whose cache
 * lookup meets a lost database does.
 */
function scriptedClient() {
  const cached: string[] = [];
  let release: (() => void) | undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const client: LlmClient = {
    model: 'm',
    async chat(request: ChatRequest) {
      const content = request.messages[0]!.content;
      if (content.startsWith('fail')) throw new Error(`the database is away (${content})`);
      await released;
      cached.push(content);
      return answer(content);
    },
    embed: () => Promise.reject(new Error('not used')),
  };
  return { client, cached, release: () => release!() };
}

const ask = (client: LlmClient, content: string) => client.chat({ messages: [{ role: 'user', content }] });

/** Settles with the attempt's outcome; `settled` says whether it has yet. */
function watch(attempt: Promise<unknown>) {
  const state = { settled: false, error: undefined as unknown };
  const done = attempt.then(
    () => (state.settled = true),
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return { state, done };
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('model calls in flight when an activity attempt fails', () => {
  it("reports the failure of a Promise.all only once the sibling's paid answer is cached", async () => {
    const { client, cached, release } = scriptedClient();
    const llm = trackedLlmClient(client);
    const env = new MockActivityEnvironment(undefined, { interceptors: [modelCallInterceptor] });
    const attempt = watch(
      env.run(async () => {
        // A judge pair as rollout replay asks it: one call fails while the other is out.
        await Promise.all([ask(llm, 'slow judge call'), ask(llm, 'fail judge call')]);
      }),
    );
    await turns(20);
    assert.equal(attempt.state.settled, false, 'the attempt failed while its sibling call was still out');
    release();
    await attempt.done;
    assert.match(String(attempt.state.error), /the database is away \(fail judge call\)/);
    assert.deepEqual(cached, ['slow judge call'], 'the retry will find the answer in the cache');
  });

  it("waits for calls the attempt's other branches start while it waits", async () => {
    const { client, cached, release } = scriptedClient();
    const llm = trackedLlmClient(client);
    const env = new MockActivityEnvironment(undefined, { interceptors: [modelCallInterceptor] });
    let later: Promise<unknown> | undefined;
    const attempt = watch(
      env.run(async () => {
        const first = ask(llm, 'slow first');
        // A branch still running after the failure asks once more when its first call returns.
        later = first.then(() => ask(llm, 'slow second'));
        void later.catch(() => undefined);
        await ask(llm, 'fail now');
      }),
    );
    await turns(20);
    assert.equal(attempt.state.settled, false);
    release();
    await attempt.done;
    assert.deepEqual(cached, ['slow first', 'slow second']);
  });

  it('a call outside any activity attempt, or an attempt that succeeds, is not held back', async () => {
    const { client, release } = scriptedClient();
    const llm = trackedLlmClient(client);
    release();
    assert.equal((await ask(llm, 'slow outside')).content, 'slow outside');
    const env = new MockActivityEnvironment(undefined, { interceptors: [modelCallInterceptor] });
    const result = await env.run(async () => (await ask(llm, 'slow inside')).content);
    assert.equal(result, 'slow inside');
    assert.equal(llm.model, 'm');
  });
});
