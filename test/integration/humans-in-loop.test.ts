import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { approveCycle, rejectCycle, startCycle } from '../../cycles/cycle-service.js';
import type { ApiServer } from '../../api/http-server.js';
import { controlRollout } from '../../release/rollout-service.js';
import { updateAgentConfig } from '../../registry/store/agent-repository.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import { UserError } from '../../schemas/user-error.js';

interface Received {
  event: string;
  text: string;
  data: Record<string, unknown>;
}

/** A Slack-compatible webhook receiver: records every JSON body it is sent. */
async function startReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Received);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

const fastCycle = {
  agent: 'demo',
  seed: 13,
  sampleRate: 0.4,
  maxAnnotationItems: 5,
  optimizer: {
    choice: { name: 'random-search' as const, settings: { proposalsPerCall: 4 } },
    budget: { maxRollouts: 300 },
  },
};

describe('humans in the loop: reminders, escalation, deadline policy and approvals', () => {
  let stack: TestStack;
  let api: ApiServer;
  let hook: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    ({ stack, api } = await startSeededStack({ traces: 200, seed: 9 }));
    hook = await startReceiver();
  });
  after(async () => {
    hook?.server.close();
    await stopSeededStack({ stack, api });
  });

  it('reminds reviewers, escalates, and at the deadline stops the cycle when the policy says so', async () => {
    await updateAgentConfig(
      stack.db,
      'demo',
      {
        patch: {
          annotation: { reviewers: ['rita', 'sam'], escalateTo: ['lead'], onDeadline: 'stop_cycle' },
          notifications: { webhookUrl: hook.url },
        },
      },
      'test',
      'short review durations',
    );
    const client = stack.env.client;
    const worker = await stack.newWorker();
    await worker.runUntil(async () => {
      const cycleId = `cycle-demo-remind-${Date.now()}`;
      await startCycle(client, {
        taskQueue: stack.taskQueue,
        workflowId: cycleId,
        input: {
          ...fastCycle,
          annotationReminderSeconds: 2,
          annotationEscalationSeconds: 5,
          annotationDeadlineSeconds: 7,
        },
      });
      const result = (await client.workflow.getHandle(cycleId).result()) as {
        outcome: string;
        status: { annotation: { reminders: number; escalated: boolean; decidedBy: string } };
      };
      assert.equal(result.outcome, 'annotation_expired');
      assert.equal(result.status.annotation.decidedBy, 'deadline_stopped');
      assert.ok(result.status.annotation.escalated);
      const events = hook.received.filter((r) => r.data.cycleId === cycleId).map((r) => r.event);
      assert.equal(events[0], 'annotation_requested');
      assert.equal(events.at(-1), 'annotation_deadline');
      const escalation = events.indexOf('annotation_escalation');
      assert.ok(
        escalation > events.indexOf('annotation_reminder'),
        `a reminder comes first: ${events.join(', ')}`,
      );
      assert.equal(
        events.filter((e) => e === 'annotation_reminder').length,
        result.status.annotation.reminders,
      );
      assert.ok(result.status.annotation.reminders >= 2, 'a reminder every 2 s until the 7 s deadline');
      const reminder = hook.received.find(
        (r) => r.event === 'annotation_reminder' && r.data.cycleId === cycleId,
      )!;
      assert.deepEqual(
        reminder.data.openReviewers,
        ['rita', 'sam'],
        'the reminder names who still has open items',
      );
      assert.match(reminder.text, /rita: \d+ open/);
      assert.deepEqual(
        hook.received.find((r) => r.event === 'annotation_escalation' && r.data.cycleId === cycleId)!.data
          .escalateTo,
        ['lead'],
      );
      const stored = await stack.db
        .selectFrom('notifications')
        .select(['event', 'delivered'])
        .where('cycle_id', '=', cycleId)
        .execute();
      assert.equal(stored.length, events.length, 'every delivery is recorded');
      assert.ok(stored.every((n) => n.delivered));
      const optimized = await stack.db
        .selectFrom('optimization_runs')
        .select('id')
        .where('cycle_id', '=', cycleId)
        .execute();
      assert.equal(optimized.length, 0, 'a stopped cycle does not optimize');
    });
  });

  it('enforces the approver policy and the N-person rule, audits every answer, and rolls out after the second approval', async () => {
    await updateAgentConfig(
      stack.db,
      'demo',
      {
        patch: {
          annotation: { onDeadline: 'proceed_on_judge' },
          approval: { approvers: ['alice', 'bob', 'carol'], requiredApprovals: 2 },
        },
      },
      'test',
      'two approvers',
    );
    const client = stack.env.client;
    const worker = await stack.newWorker();
    await worker.runUntil(async () => {
      const cycleId = `cycle-demo-approve-${Date.now()}`;
      await startCycle(client, {
        taskQueue: stack.taskQueue,
        workflowId: cycleId,
        input: {
          ...fastCycle,
          annotationDeadlineSeconds: 2,
          approvalDeadlineSeconds: 120,
          rollout: { steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 100 }] },
          // This test is about approvals, not the gate (which has its own tests): any candidate may pass.
          gate: {
            assertions: [{ dimension: 'outcome_match', metric: 'mean', threshold: 0 }],
            nonRegression: { tolerance: 1 },
            holdout: { maxDrop: 1 },
            requireImprovement: null,
          },
        },
      });
      const status = await waitForStage(client, cycleId, ['awaiting_approval', 'done'], 180_000);
      assert.equal(
        status.stage,
        'awaiting_approval',
        `outcome ${status.outcome}, gate ${JSON.stringify(status.gate)}`,
      );
      const handle = client.workflow.getHandle(cycleId);
      const updates = async () =>
        ((await handle.fetchHistory()).events ?? []).filter(
          (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
        ).length;

      await assert.rejects(
        approveCycle(client, cycleId, { approver: 'mallory' }),
        (e: unknown) =>
          e instanceof UserError &&
          /mallory may not approve releases of demo; the agent's approvers are alice, bob, carol/.test(
            e.message,
          ),
      );
      assert.equal(await updates(), 0, 'a refused approver leaves no history');
      const first = await approveCycle(client, cycleId, { approver: 'alice', comment: 'looks good' });
      assert.deepEqual(first, { decision: 'pending', decidedBy: 'alice', approvals: 1, required: 2 });
      await assert.rejects(
        approveCycle(client, cycleId, { approver: 'Alice' }),
        (e: unknown) => e instanceof UserError && /Alice already approved this release/.test(e.message),
      );
      await assert.rejects(rejectCycle(client, cycleId, { approver: 'bob', reason: ' ' }), UserError);
      assert.equal(await updates(), 1, 'only the one valid approval is in history');
      const second = await approveCycle(client, cycleId, { approver: 'bob' });
      assert.equal(second.decision, 'approved');
      assert.equal(second.approvals, 2);
      await assert.rejects(
        approveCycle(client, cycleId, { approver: 'carol' }),
        /already approved by alice, bob|not waiting for approval/,
      );

      // The rollout holds on its indefinite pause until an operator aborts it.
      await waitForStage(client, cycleId, ['rolling_out']);
      const rolloutId = `${cycleId}-rollout`;
      for (let i = 0; i < 120; i++) {
        const row = await stack.db
          .selectFrom('rollouts')
          .select('phase')
          .where('id', '=', rolloutId)
          .executeTakeFirst();
        if (row?.phase === 'paused') break;
        await new Promise((r) => setTimeout(r, 250));
      }
      await controlRollout(client, cycleId, 'abort', { actor: 'carol', reason: 'not today' });
      const result = (await handle.result()) as { outcome: string };
      assert.equal(result.outcome, 'rolled_back');

      const audit = await stack.db
        .selectFrom('audit_log')
        .select(['actor', 'action', 'artifact'])
        .where('artifact', 'in', [`cycle:${cycleId}`, `rollout:${rolloutId}`])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        audit.map((a) => `${a.actor}:${a.action}`),
        ['alice:approve_release', 'bob:approve_release', 'alice, bob:release_approved', 'carol:abort'],
      );
      const approvals = await stack.db
        .selectFrom('approvals')
        .select(['approver', 'comment'])
        .where('cycle_id', '=', cycleId)
        .orderBy('id')
        .execute();
      assert.deepEqual(approvals, [
        { approver: 'alice', comment: 'looks good' },
        { approver: 'bob', comment: null },
      ]);
    });
  });
});
