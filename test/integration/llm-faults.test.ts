import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { OpenAiLlmClient } from '../../llm/openai-llm-client.js';
import type { ModelEndpoint } from '../../schemas/config.js';
import type { Db } from '../../db/connection.js';
import { startTestDatabase } from '../helpers/test-stack.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';
import { SIMULATED_MODELS, startSimulator, type SimulatorServer } from '../simulator/simulator-server.js';
import { parseFaultSpec } from '../simulator/fault-plan.js';
import { judgeWithRubric } from '../../llm/rubric-judge.js';
import { rubricFor } from '../../evaluation/judge-rubrics.js';

/**
 * The LLM client against a simulator that injects the faults production model servers show:
 * the client honours Retry-After, pauses a failing model with its circuit breaker, keeps its
 * per-endpoint concurrency limit, and pays once for identical calls.
 */
describe('LLM client under injected model faults', () => {
  let database: { db: Db; teardown(): Promise<void> };
  const sims: SimulatorServer[] = [];
  const scenario = loadScenario(AIRLINE_SCENARIO);

  before(async () => {
    database = await startTestDatabase();
  });
  after(async () => {
    for (const sim of sims) await sim.close();
    await database?.teardown();
  });

  const setup = async (spec: string, endpoint: Partial<ModelEndpoint> = {}, db: Db | null = null) => {
    const sim = await startSimulator(scenario, 0, '127.0.0.1', {
      faults: parseFaultSpec(spec),
      faultSeed: 3,
    });
    sims.push(sim);
    const client = new OpenAiLlmClient(
      { baseUrl: sim.url, model: SIMULATED_MODELS.embedder, apiKey: 'simulator', ...endpoint },
      db,
    );
    return { sim, client };
  };

  it('a 429 with Retry-After is waited out as the server asks, and the call succeeds', async () => {
    const { sim, client } = await setup('embedder:429:1:retry=2:times=1');
    const started = performance.now();
    const [vector] = await client.embed(['where is my bag']);
    const waited = performance.now() - started;
    assert.ok(vector && vector.length > 0);
    assert.deepEqual(
      sim.requests.map((r) => r.status),
      [429, 200],
    );
    assert.ok(waited >= 1900, `waited ${waited.toFixed(0)} ms for a Retry-After of 2 s`);
  });

  it('faults in a row open the circuit: calls fail at once, retryably, until a probe succeeds', async () => {
    const { sim, client } = await setup('embedder:500:1:times=6', {
      circuitBreaker: { failureThreshold: 2, cooldownSeconds: 1 },
    });
    // Each call is three attempts (the SDK's two retries), all answered 500.
    for (let i = 0; i < 2; i++) await assert.rejects(client.embed([`call ${i}`]), /answered 500/);
    assert.equal(sim.requests.length, 6);
    const paused = await client.embed(['paused']).then(
      () => assert.fail('the open circuit let a call through'),
      (e: unknown) => e,
    );
    assert.ok(paused instanceof ApplicationFailure);
    assert.equal(paused.nonRetryable, false);
    assert.match(paused.message, /failed 2 times in a row.*paused for 1 s/);
    assert.ok((paused.nextRetryDelay as number) > 0);
    assert.equal(sim.requests.length, 6, 'no request went out while the circuit was open');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const [probe] = await client.embed(['probe']);
    assert.ok(probe);
    await client.embed(['after']);
    assert.deepEqual(
      sim.requests.slice(6).map((r) => r.status),
      [200, 200],
    );
  });

  it('a model that never answers ends at the client timeout and counts toward the breaker', async () => {
    const { client } = await setup('embedder:timeout:1:times=3', {
      timeoutSeconds: 0.5,
      circuitBreaker: { failureThreshold: 1, cooldownSeconds: 60 },
    });
    await assert.rejects(client.embed(['hello']), /timed out/i);
    await assert.rejects(client.embed(['hello again']), /failed 1 times in a row.*paused for 60 s/);
  });

  it('keeps at most maxConcurrency requests in flight to the endpoint', async () => {
    const { sim, client } = await setup('embedder:slow:1:delay=300', { maxConcurrency: 2 });
    await Promise.all(Array.from({ length: 6 }, (_, i) => client.embed([`text ${i}`])));
    assert.equal(sim.requests.length, 6);
    assert.equal(sim.peakInFlight(), 2);
    const { sim: open, client: unlimited } = await setup('embedder:slow:1:delay=300');
    await Promise.all(Array.from({ length: 6 }, (_, i) => unlimited.embed([`text ${i}`])));
    assert.equal(open.peakInFlight(), 6, 'without a limit they all go at once');
  });

  it('identical calls in flight pay once, and a cached answer is never asked for again', async () => {
    const { sim, client } = await setup('embedder:slow:1:delay=300', {}, database.db);
    const answers = await Promise.all(Array.from({ length: 5 }, () => client.embed(['same text'])));
    assert.equal(sim.requests.length, 1, 'one paid call for five identical ones');
    assert.ok(answers.every((a) => JSON.stringify(a) === JSON.stringify(answers[0])));
    await client.embed(['same text']);
    assert.equal(sim.requests.length, 1, 'the cached answer was used');
  });

  it('a judge answer still off its schema after the repair round is paid for once: asked again, it comes from the cache', async () => {
    // The first answer and the client's repair round are both off the schema; the judge then
    // repairs with its own request. bench:faults saw a retried gate activity (and the gate's
    // baseline, judged on the same step as the candidate) pay for both off-schema answers again.
    const { sim } = await setup('judge:off-schema:1:times=2');
    const judge = () =>
      new OpenAiLlmClient(
        { baseUrl: sim.url, model: SIMULATED_MODELS.judge, apiKey: 'simulator' },
        database.db,
      );
    const trace = {
      messages: [{ role: 'user' as const, content: 'Cancel my reservation ABC123, please.' }],
      steps: [{ action: 'cancel_reservation', arguments: { reservation_id: 'ABC123' } }],
    };
    const options = { seed: 7, repeats: 1, examples: [], price: { input: 0, output: 0 } };
    const rubric = rubricFor('task_completion');
    const first = await judgeWithRubric(judge(), rubric, trace, options);
    const paid = sim.requests.filter((r) => r.status === 200).length;
    assert.equal(paid, 3, "the first answer, the repair round, the judge's own repair");
    assert.equal(sim.requests.filter((r) => r.fault === 'off-schema').length, 2);
    // The retried activity, on another worker: a new client, the same cache.
    const again = await judgeWithRubric(judge(), rubric, trace, options);
    assert.equal(sim.requests.length, paid, 'nothing paid again');
    assert.deepEqual(again, first);
  });

  it('a paid answer whose cache write meets a lost connection is stored once the database answers', async () => {
    // The connection dies under the first write of the cache (pg_terminate_backend, a
    // restart): bench:faults saw the answer dropped and paid for again by the retried activity.
    let failures = 0;
    const flaky = database.db.withPlugin({
      transformQuery: (args) => args.node,
      transformResult: (args) => {
        if (failures === 0 && args.result.numAffectedRows !== undefined) {
          failures++;
          return Promise.reject(new Error('Connection terminated unexpectedly'));
        }
        return Promise.resolve(args.result);
      },
    });
    const { sim, client } = await setup('embedder:slow:0', {}, flaky);
    const answer = await client.embed(['a text paid for once']);
    assert.equal(failures, 1, 'the first write failed');
    const fromCache = await new OpenAiLlmClient(
      { baseUrl: sim.url, model: SIMULATED_MODELS.embedder, apiKey: 'simulator' },
      database.db,
    ).embed(['a text paid for once']);
    assert.deepEqual(fromCache, answer);
    assert.equal(sim.requests.length, 1, 'the retry of the activity finds the answer in the cache');
  });
});
