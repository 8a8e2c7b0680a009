/**
 * Online evaluation and drift alerts on a real PostgreSQL and Temporal dev server, with the
 * simulator's agent, judge and embedder: the evaluated share and the daily cost cap, scores
 * stored beside the cycles' own, a planted drift raising exactly one alert that starts a
 * cycle sampling the drifted traces, and stationary traffic raising none.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'kysely';
import {
  createOnlineEvaluationActivities,
  type DriftCheckSummary,
  type OnlineRunSummary,
} from '../../activities/online-evaluation.js';
import { CachedModels, productionPrompt } from '../../bench/drift-traffic.js';
import { ensureAgent } from '../../registry/store/agent-repository.js';
import { createPrompt } from '../../registry/prompt-service.js';
import { onlineEvaluationStatus } from '../../evaluation/online-evaluation-service.js';
import type { SlackMessage } from '../../notify/slack-message.js';
import { TraceRecord } from '../../schemas/trace.js';
import { TraceWriter } from '../../traces/store/trace-writer.js';
import { loadTaxonomy } from '../../workers/load-taxonomy.js';
import { driftCycleWorkflowId } from '../../workflows/workflow-ids.js';
import { generateTraffic } from '../simulator/traffic.js';
import { startTestStack, type TestStack } from '../helpers/test-stack.js';

const HOUR = 3_600_000;

describe('online evaluation and drift alerts', () => {
  let stack: TestStack;
  let models: CachedModels;
  const notices: { url: string; message: SlackMessage }[] = [];
  let activities: ReturnType<typeof createOnlineEvaluationActivities>;
  let embeddedTexts = 0;

  before(async () => {
    stack = await startTestStack();
    models = new CachedModels(stack.scenario);
    const embedder = stack.llm.embedder!;
    activities = createOnlineEvaluationActivities({
      db: stack.db,
      // Counts the texts sent to the embedder: the drift check must embed each trace once.
      llm: {
        ...stack.llm,
        embedder: {
          model: embedder.model,
          chat: (request, signal) => embedder.chat(request, signal),
          embed: (texts, signal) => {
            embeddedTexts += texts.length;
            return embedder.embed(texts, signal);
          },
        },
      },
      llmConcurrency: 4,
      taxonomy: loadTaxonomy(),
      webhook: (url, message) => {
        notices.push({ url, message });
        return Promise.resolve({ delivered: true, status: 200, error: null });
      },
    });
  });
  after(async () => {
    await stack?.teardown();
  });

  const inActivity = <A, R>(fn: (arg: A) => Promise<R>, arg: A): Promise<R> =>
    new MockActivityEnvironment(undefined, { client: stack.env.client }).run(fn, arg);
  const evaluate = (agent: string, at: Date, runKey: string) =>
    inActivity<Parameters<typeof activities.evaluateOnline>[0], OnlineRunSummary>(
      activities.evaluateOnline.bind(activities),
      { agent, at: at.toISOString(), runKey },
    );
  const check = (agent: string, at: Date) =>
    inActivity<Parameters<typeof activities.checkDrift>[0], DriftCheckSummary>(
      activities.checkDrift.bind(activities),
      { agent, at: at.toISOString(), taskQueue: stack.taskQueue },
    );

  /** The scenario's users for `hours` hours from `start`, served `promptAt(hour)`, as `agent`'s traces. */
  async function traffic(
    agent: string,
    start: Date,
    hours: number,
    perHour: number,
    promptAt: (hour: number) => string,
    idPrefix = agent,
  ): Promise<TraceRecord[]> {
    const records: TraceRecord[] = [];
    for (let hour = 0; hour < hours; hour++) {
      const prompt = promptAt(hour);
      const batch = await generateTraffic({
        scenario: stack.scenario,
        agent: models.agent,
        resolve: () => Promise.resolve({ version: 1, text: prompt }),
        count: perHour,
        start: new Date(start.getTime() + hour * HOUR),
        spacingMs: HOUR / perHour,
        seed: 7,
        idPrefix: `${idPrefix}-h${hour}`,
      });
      records.push(...batch.map((r) => TraceRecord.parse({ ...r, agent })));
    }
    await new TraceWriter(stack.db).write(records);
    return records;
  }

  it('scores the configured share of new traces, within the daily cost cap, once', async () => {
    const agent = 'online-air';
    const start = new Date('2026-11-02T08:00:00Z');
    await ensureAgent(stack.db, agent, {
      // Unpaced (1,000 a second): this test is about the share and the cap.
      online: {
        enabled: true,
        sampleShare: 0.3,
        dailyCostCapUsd: 4,
        settleSeconds: 0,
        maxTracesPerSecond: 1000,
      },
      // Every rubric on every trace, at a price that makes the cap bind.
      evaluation: {
        cascade: { enabled: false },
        judge: { priceUsdPerMillionTokens: { input: 1000, output: 1000 } },
      },
    });
    const first = await traffic(agent, start, 1, 200, () => productionPrompt(stack.scenario, null));
    const at = new Date(start.getTime() + HOUR);
    const inShare = await sql<{ id: string }>`
      select id from traces where agent_id = ${agent} and sample_key < 0.3 order by id`.execute(stack.db);
    const expected = inShare.rows.map((r) => r.id);
    assert.ok(expected.length > 30 && expected.length < 90, `${expected.length} traces in the 30 % share`);

    const run = await evaluate(agent, at, 'run-1');
    assert.equal(run.considered, first.length);
    assert.equal(run.sampled, expected.length);
    const looked = await sql<{ trace_id: string }>`
      select trace_id from online_evaluated_traces where agent_id = ${agent}`.execute(stack.db);
    // Exactly the share was looked at.
    assert.deepEqual(looked.rows.map((r) => r.trace_id).sort(), [...expected].sort());
    const scored = await sql<{ trace_id: string; judged: boolean; cost: number }>`
      select trace_id, bool_or(source = 'judge') as judged, sum(cost_usd)::float8 as cost
      from scores where cycle_id is null and agent_id = ${agent} group by trace_id order by trace_id`.execute(
      stack.db,
    );
    // Only the share has scores (one whose judge the cap skipped and no code check applies to has none).
    assert.deepEqual(
      scored.rows.map((r) => r.trace_id).filter((id) => !expected.includes(id)),
      [],
    );
    const judged = scored.rows.filter((r) => r.judged);
    assert.ok(judged.length > 0, 'the judge scored some traces');
    assert.equal(run.skippedForCap, expected.length - judged.length);
    assert.ok(run.skippedForCap > 0, 'the cap stopped the judge before the share was judged');
    const dearest = Math.max(...judged.map((r) => r.cost));
    assert.ok(run.costUsd <= 4 + dearest, `spent ${run.costUsd} against a cap of 4`);
    assert.ok(Math.abs(run.costUsd - judged.reduce((s, r) => s + r.cost, 0)) < 1e-6);

    // A retried run (the same key) looks at nothing again, answers what the first attempt
    // did and records the run once.
    const { spentTodayUsd: spentAgain, ...again } = await evaluate(agent, at, 'run-1');
    const { spentTodayUsd: spentFirst, ...first1 } = run;
    assert.deepEqual(again, first1);
    assert.ok(Math.abs(spentAgain - spentFirst) < 1e-9);
    const runs = await sql<{ n: number }>`
      select count(*)::int as n from online_evaluation_runs where agent_id = ${agent}`.execute(stack.db);
    assert.equal(runs.rows[0]!.n, 1);

    // Later the same day: new traces get their code checks, the judge waits for tomorrow's budget.
    await traffic(
      agent,
      new Date(at.getTime()),
      1,
      40,
      () => productionPrompt(stack.scenario, null),
      `${agent}-later`,
    );
    const later = await evaluate(agent, new Date(at.getTime() + HOUR), 'run-2');
    assert.ok(later.sampled > 0);
    assert.equal(later.judgeCalls, 0);
    assert.equal(later.skippedForCap, later.sampled);
    assert.ok(Math.abs(later.spentTodayUsd - run.costUsd) < 1e-6);

    // The scores land where a cycle's do, marked online, and the trace page shows them.
    const source = await sql<{ source: string; n: number }>`
      select source, count(*)::int as n from scores where agent_id = ${agent} group by source order by source`.execute(
      stack.db,
    );
    assert.deepEqual(
      source.rows.map((r) => r.source),
      ['code', 'judge'],
    );
    const status = await onlineEvaluationStatus(stack.db, agent, at);
    assert.deepEqual(
      status.runs.map((r) => [r.sampled, r.judgeCalls > 0]),
      [
        [later.sampled, false],
        [run.sampled, true],
      ],
    );
    assert.ok(Math.abs(status.online.spentTodayUsd - run.costUsd) < 1e-6);
  });

  it('works through a backlog bigger than one run, leaving no trace behind, paced', async () => {
    const agent = 'backlog-air';
    await ensureAgent(stack.db, agent, {
      online: { enabled: true, sampleShare: 1, maxTracesPerRun: 10, settleSeconds: 0, lateArrivalMinutes: 0 },
    });
    const start = new Date('2026-11-03T08:00:00Z');
    const records = await traffic(agent, start, 1, 25, () => productionPrompt(stack.scenario, null));
    const at = new Date(start.getTime() + HOUR);
    // Three runs at the same moment (as after an outage): 10, 10, then the last 5.
    const runs = [];
    const firstRunStarted = Date.now();
    for (const key of ['b1', 'b2', 'b3', 'b4']) runs.push((await evaluate(agent, at, key)).sampled);
    assert.deepEqual(runs, [10, 10, 5, 0]);
    // Paced at the default 4 traces a second: the first run's tenth trace starts 2.25 s after
    // the run does (scored unpaced, the ten take a fraction of that).
    const lastOfFirstRun = await sql<{ at: Date }>`
      select max(evaluated_at) as at from online_evaluated_traces where run_key = 'b1'`.execute(stack.db);
    const spreadMs = lastOfFirstRun.rows[0]!.at.getTime() - firstRunStarted;
    assert.ok(spreadMs >= 2250, `the first run's last trace was scored ${spreadMs} ms after it started`);
    const looked = await sql<{ n: number }>`
      select count(*)::int as n from online_evaluated_traces where agent_id = ${agent}`.execute(stack.db);
    assert.equal(looked.rows[0]!.n, records.length);
  });

  it('raises exactly one alert within a window of a planted drift, starting a cycle that samples the drifted traces', async () => {
    const drifting = 'drift-air';
    const steady = 'steady-air';
    const rule = stack.scenario.rules[0]!.id;
    const drift = {
      enabled: true,
      currentWindowHours: 12,
      referenceWindowHours: 24,
      minReferenceHours: 12,
      checkEveryMinutes: 60,
      startCycleOnAlert: true,
    };
    const notifications = { webhookUrl: 'http://hooks.example.test/drift' };
    await ensureAgent(stack.db, drifting, { drift, notifications });
    await createPrompt(stack.db, {
      name: drifting,
      agent: drifting,
      type: 'text',
      prompt: productionPrompt(stack.scenario, null),
      labels: ['production'],
      actor: 'user:test',
    });
    await ensureAgent(stack.db, steady, { drift, notifications });
    const hours = 60;
    // Ending at the last full hour: the early cycle samples its usual window back from now.
    const start = new Date(Math.floor(Date.now() / HOUR) * HOUR - hours * HOUR);
    const onset = 40;
    // From the onset the drifting agent's prompt loses one rule's fix: those requests now fail.
    await traffic(drifting, start, hours, 20, (h) =>
      productionPrompt(stack.scenario, h >= onset ? rule : null),
    );
    await traffic(steady, start, hours, 20, () => productionPrompt(stack.scenario, null));

    const embeddedBefore = embeddedTexts;
    const alertHours: Record<string, number[]> = { [drifting]: [], [steady]: [] };
    let tested = 0;
    for (let h = 1; h <= hours; h++) {
      for (const agent of [drifting, steady]) {
        const result = await check(agent, new Date(start.getTime() + h * HOUR));
        if (result.checked) tested++;
        if (result.alertId) alertHours[agent]!.push(h);
      }
      // Not due again within the hour.
      assert.deepEqual(await check(drifting, new Date(start.getTime() + h * HOUR + 30 * 60_000)), {
        agent: drifting,
        checked: false,
        reason: 'not due',
      });
    }
    assert.ok(tested > 40, `${tested} checks ran a test`);
    // Each trace's input was embedded once over the 120 checks (its vector is stored), not
    // once per check that saw it; and only the windows' vectors are kept.
    assert.equal(embeddedTexts - embeddedBefore, 2 * hours * 20);
    const kept = await sql<{ n: number }>`
      select count(*)::int as n from drift_input_embeddings where agent_id = ${steady}`.execute(stack.db);
    assert.equal(kept.rows[0]!.n, (drift.currentWindowHours + drift.referenceWindowHours) * 20);
    assert.deepEqual(alertHours[steady], [], 'no alert on stationary traffic');
    assert.equal(alertHours[drifting]!.length, 1, `alerts at hours ${alertHours[drifting]!.join(', ')}`);
    const alertHour = alertHours[drifting]![0]!;
    assert.ok(
      alertHour > onset && alertHour <= onset + drift.currentWindowHours,
      `alert at hour ${alertHour}`,
    );

    const alertAt = start.getTime() + alertHour * HOUR;
    const [alert] = (
      await sql<{
        id: string;
        cycle_id: string;
        drifted_trace_ids: string[];
        findings: { slice: string }[];
        notified: boolean;
      }>`
        select id, cycle_id, drifted_trace_ids, findings, notified from drift_alerts where agent_id = ${drifting}`.execute(
        stack.db,
      )
    ).rows;
    assert.ok(alert);
    assert.equal(alert.cycle_id, driftCycleWorkflowId(drifting, alertAt));
    assert.equal(alert.notified, true);
    assert.ok(alert.drifted_trace_ids.length > 0);
    // The drifted traces are the drifting agent's, from after the onset.
    const onsetTraces = await sql<{ n: number }>`
      select count(*)::int as n from traces where agent_id = ${drifting}
        and id = any(${alert.drifted_trace_ids}) and started_at >= ${new Date(start.getTime() + onset * HOUR)}`.execute(
      stack.db,
    );
    assert.equal(onsetTraces.rows[0]!.n, alert.drifted_trace_ids.length);

    // The agent's status (GET /api/agents/:id/online-evaluation) lists it with its evidence.
    const status = await onlineEvaluationStatus(stack.db, drifting, new Date());
    assert.deepEqual(
      status.alerts.map((a) => [a.id, a.cycleId, a.driftedTraces, a.notified]),
      [[alert.id, alert.cycle_id, alert.drifted_trace_ids.length, true]],
    );
    assert.equal(status.alerts[0]!.findings[0]!.slice, alert.findings[0]!.slice);
    assert.equal(status.drift.epochStart, new Date(alertAt).toISOString());
    assert.equal(status.drift.lastCheckAt, new Date(start.getTime() + hours * HOUR).toISOString());

    // The webhook carried the evidence.
    const notice = notices.find((n) => n.message.event === 'drift_alert');
    assert.ok(notice);
    assert.equal(notice.url, notifications.webhookUrl);
    assert.equal(notice.message.data.cycleId, alert.cycle_id);
    assert.match(notice.message.text, /drift detected/);

    // The early cycle started; a worker runs its sampling, which takes every drifted trace.
    const handle = stack.env.client.workflow.getHandle(alert.cycle_id);
    assert.equal((await handle.describe()).type, 'cycleWorkflow');
    const worker = await stack.newWorker();
    const running = worker.run();
    try {
      let sampled: { trace_id: string }[] = [];
      for (let i = 0; i < 120 && sampled.length < alert.drifted_trace_ids.length; i++) {
        sampled = (
          await sql<{ trace_id: string }>`
            select trace_id from samples where cycle_id = ${alert.cycle_id} and 'drift' = any(reasons)`.execute(
            stack.db,
          )
        ).rows;
        if (sampled.length < alert.drifted_trace_ids.length) await new Promise((r) => setTimeout(r, 500));
      }
      assert.deepEqual(sampled.map((s) => s.trace_id).sort(), [...alert.drifted_trace_ids].sort());
    } finally {
      // The cycle may have ended on its own by now (nothing to optimize); then there is nothing to stop.
      await handle.terminate('test done').catch((e: unknown) => {
        if (!(e instanceof WorkflowNotFoundError)) throw e;
      });
      worker.shutdown();
      await running;
    }
  });
});
