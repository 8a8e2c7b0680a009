import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { approveCycle, rejectCycle, startCycle, submitAnnotations } from '../../cycles/cycle-service.js';
import { asPerson } from '../helpers/test-decision-keys.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import {
  upsertSchedule,
  describeSchedule,
  triggerSchedule,
  deleteSchedule,
  listSchedules,
} from '../../cycles/schedule-service.js';
import type { ApiServer } from '../../api/http-server.js';
import { scheduleId } from '../../workflows/workflow-ids.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import { UserError } from '../../schemas/user-error.js';

const fastCycle = {
  agent: 'demo',
  seed: 11,
  sampleRate: 0.4,
  maxAnnotationItems: 5,
  optimizer: {
    choice: { name: 'random-search' as const, settings: { proposalsPerCall: 4 } },
    budget: { maxRollouts: 300 },
  },
};

describe('cycle edges, bad input and schedules on real Temporal and Postgres', () => {
  let stack: TestStack;
  let api: ApiServer;

  before(async () => ({ stack, api } = await startSeededStack({ traces: 200, seed: 8 })));
  after(() => stopSeededStack({ stack, api }));

  it('proceeds on judge labels at the annotation deadline, records it, and ends cleanly when rejected', async () => {
    const client = stack.env.client;
    const worker = await stack.newWorker();
    await worker.runUntil(async () => {
      const cycleId = `cycle-demo-deadline-${Date.now()}`;
      await startCycle(client, {
        taskQueue: stack.taskQueue,
        workflowId: cycleId,
        input: { ...fastCycle, annotationDeadlineSeconds: 2, approvalDeadlineSeconds: 60 },
      });
      const status = await waitForStage(client, cycleId, ['awaiting_approval', 'done'], 180_000);
      assert.equal(status.annotation?.decidedBy, 'deadline_judge_labels');
      assert.equal(status.annotation?.labelled, 0);
      assert.equal(status.stage, 'awaiting_approval', `outcome ${status.outcome}`);

      // Annotating after the deadline changes nothing.
      const items = await stack.db
        .selectFrom('annotation_items')
        .select('id')
        .where('cycle_id', '=', cycleId)
        .execute();
      await assert.rejects(
        submitAnnotations(stack.db, client, cycleId, {
          reviewer: 'late',
          labels: [{ itemId: items[0]!.id, verdict: 'pass' }],
        }),
        /not waiting for annotation/,
      );
      const stored = await stack.db
        .selectFrom('annotations')
        .select('id')
        .where('reviewer', '=', 'late')
        .execute();
      assert.equal(stored.length, 0);

      await assert.rejects(
        rejectCycle(client, cycleId, { reason: '' }, asPerson('carol')),
        UserError,
        'a rejection needs a reason',
      );
      const rejected = await rejectCycle(client, cycleId, { reason: 'tone is off' }, asPerson('carol'));
      assert.equal(rejected.decision, 'rejected');
      // Refused by the validator while the cycle winds down, or because it has ended: either way
      // the answer names who decided.
      await assert.rejects(
        approveCycle(client, cycleId, {}, asPerson('dave')),
        /already rejected by carol|already ended \(outcome: rejected, decided by user:carol\)/,
      );
      const result = (await client.workflow.getHandle(cycleId).result()) as { outcome: string };
      assert.equal(result.outcome, 'rejected');
      const decision = await stack.db
        .selectFrom('release_decisions')
        .selectAll()
        .where('cycle_id', '=', cycleId)
        .executeTakeFirstOrThrow();
      assert.equal(decision.decision, 'rejected');
      assert.equal(decision.comment, 'tone is off');
      const rollouts = await stack.db
        .selectFrom('rollouts')
        .select('id')
        .where('cycle_id', '=', cycleId)
        .execute();
      assert.equal(rollouts.length, 0, 'a rejected cycle does not roll out');
    });
  });

  it('annotation submissions with unknown items or no reviewer are rejected and store nothing', async () => {
    const client = stack.env.client;
    const worker = await stack.newWorker();
    await worker.runUntil(async () => {
      const cycleId = `cycle-demo-badlabels-${Date.now()}`;
      await startCycle(client, {
        taskQueue: stack.taskQueue,
        workflowId: cycleId,
        input: { ...fastCycle, annotationDeadlineSeconds: 600 },
      });
      await waitForStage(client, cycleId, ['awaiting_annotation']);
      await assert.rejects(
        submitAnnotations(stack.db, client, cycleId, {
          reviewer: 'x',
          labels: [{ itemId: 'nope', verdict: 'pass' }],
        }),
        /Unknown annotation item/,
      );
      await assert.rejects(submitAnnotations(stack.db, client, cycleId, { labels: [] }), /reviewer/);
      const count = await stack.db
        .selectFrom('annotations')
        .innerJoin('annotation_items', 'annotation_items.id', 'annotations.item_id')
        .select('annotations.id')
        .where('annotation_items.cycle_id', '=', cycleId)
        .execute();
      assert.equal(count.length, 0);
      assert.equal(
        (await waitForStage(client, cycleId, ['awaiting_annotation'])).stage,
        'awaiting_annotation',
      );
      await client.workflow.getHandle(cycleId).terminate('test done');
    });
  });

  it('a second cycle with the same ID is refused with a clear message', async () => {
    const client = stack.env.client;
    const id = `cycle-demo-dup-${Date.now()}`;
    await startCycle(client, { taskQueue: `${stack.taskQueue}-idle`, workflowId: id, input: fastCycle });
    await assert.rejects(
      startCycle(client, { taskQueue: `${stack.taskQueue}-idle`, workflowId: id, input: fastCycle }),
      /already exists/,
    );
    await client.workflow.getHandle(id).terminate('test done');
  });

  it('a second cycle started on the same day without an ID gets the next one', async () => {
    const client = stack.env.client;
    // A day no other test uses, so the default IDs are free.
    const now = new Date(Date.UTC(1990, 0, 1) + (Date.now() % 3650) * 86_400_000);
    const day = now.toISOString().slice(0, 10);
    const queue = `${stack.taskQueue}-idle`;
    const first = await startCycle(client, { taskQueue: queue, input: fastCycle, now });
    const second = await startCycle(client, { taskQueue: queue, input: fastCycle, now });
    assert.equal(first.workflowId, `cycle-demo-${day}`);
    assert.equal(second.workflowId, `cycle-demo-${day}-2`);
    for (const c of [first, second]) await client.workflow.getHandle(c.workflowId).terminate('test done');
  });

  it('resolve serves production until a rollout exists', async () => {
    // The agent resolves with its own token.
    const { token } = await createAgentToken(stack.db, {
      agent: 'demo',
      scopes: ['resolve'],
      createdBy: 'test',
    });
    const headers = { authorization: `Bearer ${token}` };
    const res = await fetch(`${api.url}/api/prompts/demo/resolve?unit=user-1`, { headers });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { variant: string; version: number };
    assert.equal(body.variant, 'production');
    assert.equal((await fetch(`${api.url}/api/prompts/demo/resolve`, { headers })).status, 400);
    assert.equal((await fetch(`${api.url}/api/prompts/nobody/resolve?unit=u`, { headers })).status, 404);
    assert.equal((await fetch(`${api.url}/api/prompts/demo/resolve?unit=user-1`)).status, 401);
  });

  it('schedule create is idempotent and trigger never overlaps a running cycle', async () => {
    const client = stack.env.client;
    const spec = { agent: 'demo', cron: '0 9 * * MON', taskQueue: `${stack.taskQueue}-idle` };
    assert.deepEqual(await upsertSchedule(client, spec), { scheduleId: scheduleId('demo'), created: true });
    assert.deepEqual(await upsertSchedule(client, { ...spec, cron: '0 10 * * MON' }), {
      scheduleId: scheduleId('demo'),
      created: false,
    });
    const described = await describeSchedule(client, 'demo');
    assert.equal(described.spec.calendars?.[0]?.hour?.[0]?.start, 10, 'the update replaced the cron');
    let listed: Awaited<ReturnType<typeof listSchedules>> = [];
    for (let i = 0; i < 40 && listed.length === 0; i++) {
      listed = await listSchedules(client);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(listed.filter((s) => s.scheduleId === scheduleId('demo')).length, 1);
    await assert.rejects(upsertSchedule(client, { ...spec, cron: 'every monday' }), /cron/);

    await triggerSchedule(client, 'demo');
    await new Promise((r) => setTimeout(r, 1500));
    await triggerSchedule(client, 'demo');
    await new Promise((r) => setTimeout(r, 1500));
    const after = await describeSchedule(client, 'demo');
    assert.equal(
      after.info.recentActions.length,
      1,
      'the second trigger was skipped while the first cycle runs',
    );
    assert.equal(after.info.runningActions.length, 1);
    await client.workflow.getHandle(after.info.runningActions[0]!.workflow.workflowId).terminate('test done');
    await deleteSchedule(client, 'demo');
    await assert.rejects(triggerSchedule(client, 'demo'), /has no schedule/);
  });
});
