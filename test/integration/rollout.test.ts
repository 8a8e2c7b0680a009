import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Worker } from '@temporalio/worker';
import type { ApiServer } from '../../api/http-server.js';
import { controlRollout, rolloutState, startManualRollout } from '../../release/rollout-service.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { createPromptVersion, labelledVersion } from '../../registry/store/prompt-repository.js';
import type { RolloutConfigArg } from '../../schemas/rollout-config.js';
import type { RolloutState } from '../../schemas/rollout-control.js';
import { startDemoTraffic } from '../../scripts/demo-traffic.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import { scheduledTimeouts } from '../helpers/scheduled-timeouts.js';
import { ForbiddenError, UserError } from '../../schemas/user-error.js';
import { asPerson, forgedAs } from '../helpers/test-decision-keys.js';

/**
 * Staged rollouts driven by simulated users: each user resolves a prompt through the HTTP
 * API, the simulated agent answers with the prompt it was served, and the trace (tagged with
 * the served version) comes back through ingest. The analysis reads those traces.
 */
describe('staged rollout with live traffic through resolve', () => {
  let stack: TestStack;
  let api: ApiServer;
  let worker: Worker;
  let running: Promise<void>;
  let token: string;
  let good: number;
  let bad: number;
  let concise: number;

  before(async () => {
    ({ stack, api } = await startSeededStack({ traces: 160, seed: 11 }));
    worker = await stack.newWorker();
    running = worker.run();
    token = (
      await createAgentToken(stack.db, { agent: 'demo', scopes: ['ingest', 'resolve'], createdBy: 'test' })
    ).token;
    const base = stack.scenario.basePrompt;
    const fixes = stack.scenario.rules.map((r) => r.fixingPhrases[0]).join(' ');
    good = (await createPromptVersion(stack.db, 'demo', `${base} ${fixes}.`, 'manual', null)).version;
    // Fixes one mode and breaks every routine request: a planted regression.
    bad = (
      await createPromptVersion(
        stack.db,
        'demo',
        `${base} ${stack.scenario.overBroad[0]!.phrase}`,
        'manual',
        null,
      )
    ).version;
    concise = (await createPromptVersion(stack.db, 'demo', `${base} ${fixes}. Be concise.`, 'manual', null))
      .version;
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await stopSeededStack({ stack, api });
  });

  const start = (version: number, config: RolloutConfigArg, modelMinutes?: number) =>
    startManualRollout(stack.env.client, stack.db, {
      taskQueue: stack.taskQueue,
      agent: 'demo',
      candidateVersion: version,
      actor: 'olga',
      config,
      now: new Date(),
      ...(modelMinutes === undefined ? {} : { modelMinutes }),
    });
  const waitFor = async (id: string, ok: (s: RolloutState) => boolean, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    let last: RolloutState | undefined;
    while (Date.now() < deadline) {
      try {
        last = await rolloutState(stack.env.client, id);
        if (ok(last)) return last;
      } catch {
        // not started yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`rollout ${id} never reached the expected state; last ${JSON.stringify(last)}`);
  };
  const result = (id: string) =>
    stack.env.client.workflow.getHandle(id).result() as Promise<{
      status: string;
      reason: string;
      weight: number;
    }>;
  const updateEvents = async (id: string) =>
    ((await stack.env.client.workflow.getHandle(id).fetchHistory()).events ?? []).filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
    ).length;
  // The sequential test keeps measuring until the traffic can decide (at the default alpha,
  // power and minimum detectable effect); up to 30 inconclusive looks, 2 s apart, allow it.
  const analysis = { intervalSeconds: 2, count: 2, minSamples: 8, inconclusiveLimit: 30 };

  it('replays, then ramps to 100% on healthy live metrics and makes the candidate production', async () => {
    const traffic = startDemoTraffic(api.url, token, stack.scenario, stack.llm.agent, 10, 50);
    try {
      const { workflowId } = await start(
        good,
        {
          steps: [
            { replay: { traces: 20, minTraces: 5 } },
            { setWeight: 40 },
            { analysis: {} },
            { setWeight: 100 },
          ],
          analysis,
        },
        // A slow model server's limit reaches the replay and every analysis measurement.
        33,
      );
      const done = await result(workflowId);
      assert.equal(done.status, 'completed', done.reason);
      const timeouts = await scheduledTimeouts(stack.env.client, workflowId);
      assert.deepEqual(timeouts.get('compareCandidateOnTraces'), [33 * 60]);
      const measurements = timeouts.get('measureRollout') ?? [];
      assert.ok(
        measurements.length >= 2 && measurements.every((t) => t === 33 * 60),
        `measureRollout timeouts: ${measurements.join(', ')}`,
      );
      assert.equal((await labelledVersion(stack.db, 'demo', 'production'))?.version, good);
      assert.equal(
        await labelledVersion(stack.db, 'demo', 'candidate'),
        undefined,
        'the candidate label is cleared',
      );
      const steps = await stack.db
        .selectFrom('rollout_steps')
        .select(['kind', 'verdict', 'weight', 'metrics'])
        .where('rollout_id', '=', workflowId)
        .orderBy('step_index')
        .orderBy('round')
        .execute();
      assert.equal(`${steps[0]!.kind}:${steps[0]!.verdict}`, 'replay:successful');
      // The analysis keeps measuring (inconclusive) until the traffic can show the candidate
      // is not worse, then succeeds; it never fails a healthy candidate.
      const looks = steps.slice(1);
      assert.ok(looks.length >= 2 && looks.every((s) => s.kind === 'analysis' && s.verdict !== 'failed'));
      const success = looks.find((s) => s.verdict === 'successful');
      assert.ok(success, JSON.stringify(looks.map((s) => s.verdict)));
      const evidence = (
        success.metrics as { metrics: { name: string; evidence?: { low: number } }[] }
      ).metrics.find((m) => m.name === 'success_rate')!.evidence!;
      assert.ok(evidence.low > -0.1, 'the interval rules out "worse by 10 points"');
      const shadow = await stack.db
        .selectFrom('rollout_shadow_results')
        .select(['candidate_pass', 'baseline_pass'])
        .where('rollout_id', '=', workflowId)
        .execute();
      assert.ok(shadow.length >= 5, 'the replay answered recorded inputs with the candidate');
      // Live traces were served by both versions while the weight was 40%.
      const served = await stack.db
        .selectFrom('traces')
        .select(['prompt_version', (eb) => eb.fn.countAll<string>().as('n')])
        .where('id', 'like', 'live-%')
        .groupBy('prompt_version')
        .execute();
      assert.ok(served.some((s) => s.prompt_version === good));
    } finally {
      await traffic.stop();
    }
  });

  it('rolls back a planted regression automatically: weight 0, production restored, reason recorded', async () => {
    const production = (await labelledVersion(stack.db, 'demo', 'production'))!;
    const traffic = startDemoTraffic(api.url, token, stack.scenario, stack.llm.agent, 10, 50);
    try {
      const { workflowId } = await start(bad, {
        steps: [{ setWeight: 50 }, { analysis: {} }, { setWeight: 100 }],
        analysis: {
          ...analysis,
          metrics: [{ name: 'success_rate', failureCondition: 'result < baseline - 0.1' }],
        },
      });
      const done = await result(workflowId);
      assert.equal(done.status, 'rolled_back');
      assert.match(
        done.reason,
        /analysis failed at 50%: success_rate .*: failure condition "result < baseline - 0.1" holds with 95% confidence/,
      );
      const row = await stack.db
        .selectFrom('rollouts')
        .selectAll()
        .where('id', '=', workflowId)
        .executeTakeFirstOrThrow();
      assert.equal(row.weight, 0);
      assert.equal(row.status, 'rolled_back');
      assert.equal(row.reason, done.reason);
      assert.equal((await labelledVersion(stack.db, 'demo', 'production'))?.id, production.id);
    } finally {
      await traffic.stop();
    }
  });

  it('pauses on an inconclusive analysis and continues when a human resumes', async () => {
    // No traffic yet: the first analysis cannot conclude and the rollout waits for a human.
    const { workflowId } = await start(concise, {
      steps: [{ setWeight: 30 }, { analysis: {} }],
      analysis: {
        ...analysis,
        count: 1,
        inconclusiveLimit: 0,
        metrics: [{ name: 'error_rate', failureCondition: 'result > 0.5' }],
      },
    });
    const paused = await waitFor(workflowId, (s) => s.phase === 'paused');
    assert.match(paused.pausedReason ?? '', /analysis inconclusive at 30%: .*not enough traffic/);
    const before = await updateEvents(workflowId);
    await assert.rejects(
      controlRollout(stack.env.client, workflowId, 'pause', {}, asPerson('olga')),
      (e: unknown) => e instanceof UserError && /already paused/.test(e.message),
    );
    await assert.rejects(
      controlRollout(stack.env.client, workflowId, 'setWeight', { weight: 150 }, asPerson('olga')),
      (e: unknown) => e instanceof UserError && /between 0 and 100/.test(e.message),
    );
    await assert.rejects(
      controlRollout(stack.env.client, workflowId, 'resume', {}, forgedAs('rui')),
      (e: unknown) => e instanceof ForbiddenError && /does not match key/.test(e.message),
    );
    await assert.rejects(
      controlRollout(stack.env.client, workflowId, 'resume', { actor: 'rui' }, asPerson('rui')),
      (e: unknown) => e instanceof UserError && /Remove "actor" from the request/.test(e.message),
      'the person acting is whoever signed in, never a name in the request',
    );
    assert.equal(await updateEvents(workflowId), before, 'refused actions leave no history');
    const traffic = startDemoTraffic(api.url, token, stack.scenario, stack.llm.agent, 10, 50);
    try {
      await new Promise((r) => setTimeout(r, 3000));
      const resumed = await controlRollout(
        stack.env.client,
        workflowId,
        'resume',
        { reason: 'traffic is back' },
        asPerson('rui'),
      );
      assert.equal(resumed.phase, 'progressing');
      const done = await result(workflowId);
      assert.equal(done.status, 'completed', done.reason);
    } finally {
      await traffic.stop();
    }
    const audit = await stack.db
      .selectFrom('audit_log')
      .select(['actor', 'action'])
      .where('artifact', '=', `rollout:${workflowId}`)
      .execute();
    assert.deepEqual(
      audit.map((a) => `${a.actor}:${a.action}`),
      ['user:rui:resume'],
    );
  });

  it('aborts mid-step on request, rolls back and refuses to promote a rollout that is not paused', async () => {
    const production = (await labelledVersion(stack.db, 'demo', 'production'))!;
    const { workflowId } = await start(good, {
      steps: [{ setWeight: 20 }, { pause: { durationSeconds: 600 } }, { setWeight: 100 }],
    });
    await waitFor(workflowId, (s) => s.weight === 20 && s.stepIndex === 1);
    const row = await stack.db
      .selectFrom('rollouts')
      .select('weight')
      .where('id', '=', workflowId)
      .executeTakeFirstOrThrow();
    assert.equal(row.weight, 20, 'resolve sees the live weight');
    await assert.rejects(
      controlRollout(stack.env.client, workflowId, 'promote', {}, asPerson('olga')),
      (e: unknown) => e instanceof UserError && /is not paused/.test(e.message),
    );
    await controlRollout(
      stack.env.client,
      workflowId,
      'abort',
      { reason: 'wrong version' },
      asPerson('olga'),
    );
    const done = await result(workflowId);
    assert.equal(done.status, 'rolled_back');
    assert.equal(done.reason, 'aborted by user:olga: wrong version');
    assert.equal((await labelledVersion(stack.db, 'demo', 'production'))?.id, production.id);
    const after = await stack.db
      .selectFrom('rollouts')
      .select(['weight', 'status'])
      .where('id', '=', workflowId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(after, { weight: 0, status: 'rolled_back' });
  });

  it('runs workflow code with the longer isolate timeout the optimizer needs', () => {
    // Not in the SDK's option type: this checks the worker really took it.
    assert.equal(worker.options.isolateExecutionTimeoutMs, 9_000);
  });

  it('shadows live: the candidate answers production inputs as they arrive during the step', async () => {
    const traffic = startDemoTraffic(api.url, token, stack.scenario, stack.llm.agent, 5, 200);
    try {
      // `concise` is production by now (the resumed rollout above promoted it).
      const { workflowId } = await start(good, {
        steps: [{ shadow: { durationSeconds: 8, sampleRate: 1, minTraces: 3 } }, { setWeight: 100 }],
        analysis,
      });
      const done = await result(workflowId);
      assert.equal(done.status, 'completed', done.reason);
      const [step] = await stack.db
        .selectFrom('rollout_steps')
        .select(['kind', 'verdict', 'metrics'])
        .where('rollout_id', '=', workflowId)
        .execute();
      assert.equal(`${step!.kind}:${step!.verdict}`, 'shadow:successful');
      const rows = await stack.db
        .selectFrom('rollout_shadow_results')
        .innerJoin('traces', 'traces.id', 'rollout_shadow_results.trace_id')
        .select([
          'rollout_shadow_results.created_at as answered',
          'traces.ingested_at',
          'traces.prompt_version',
        ])
        .where('rollout_id', '=', workflowId)
        .orderBy('rollout_shadow_results.created_at')
        .execute();
      assert.ok(rows.length >= 3, `${rows.length} inputs answered`);
      assert.equal(
        (step!.metrics as { traces: number }).traces,
        rows.length,
        'the verdict counts every answer',
      );
      // Every input was production's (weight 0 during the step), answered after it arrived.
      const production = rows[0]!.prompt_version;
      for (const r of rows) {
        assert.equal(r.prompt_version, production);
        assert.ok(r.answered.getTime() >= r.ingested_at.getTime());
      }
      // Answered as they arrived, not in one batch after the step's wait: the answers spread
      // over the step, and the first came long before its end.
      const spread = rows.at(-1)!.answered.getTime() - rows[0]!.answered.getTime();
      assert.ok(spread >= 3000, `answers spread over ${spread} ms of an 8 s step`);
      const lags = rows.map((r) => r.answered.getTime() - r.ingested_at.getTime()).sort((a, b) => a - b);
      assert.ok(
        lags[Math.floor(lags.length / 2)]! < 4000,
        `median lag ${lags[Math.floor(lags.length / 2)]} ms`,
      );
    } finally {
      await traffic.stop();
    }
  });
});
