import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { approveCycle, cycleStatus, rejectCycle, startCycle } from '../../cycles/cycle-service.js';
import { signDecision } from '../../release/decision-signing-service.js';
import { approveUpdate } from '../../workflows/messages.js';
import { asPerson, forgedAs, person, testSigner, untrustedAs } from '../helpers/test-decision-keys.js';
import type { ApiServer } from '../../api/http-server.js';
import { controlRollout } from '../../release/rollout-service.js';
import { updateAgentConfig } from '../../registry/store/agent-repository.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import { ConflictError, ForbiddenError, UserError } from '../../schemas/user-error.js';

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

  it('refuses unsigned, forged, altered, untrusted, expired and replayed decisions without history, counts verified people for the N-person rule, audits them by principal, and rolls out after the second approval', async () => {
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
      /** Every Update event in the history: a refused Update must leave none. */
      const updates = async (h = handle) =>
        ((await h.fetchHistory()).events ?? []).filter(
          (e) =>
            e.workflowExecutionUpdateAdmittedEventAttributes ||
            e.workflowExecutionUpdateAcceptedEventAttributes ||
            e.workflowExecutionUpdateCompletedEventAttributes,
        ).length;
      const accepted = async () =>
        ((await handle.fetchHistory()).events ?? []).filter(
          (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
        ).length;
      /** Sends `arg` as the approve Update straight to Temporal, as someone with namespace access could. */
      const rawApprove = (arg: unknown) => handle.executeUpdate('approve', { args: [arg] });
      const refusedWith = (pattern: RegExp) => (e: unknown) =>
        e instanceof WorkflowUpdateFailedError && pattern.test(e.cause?.message ?? '');

      await assert.rejects(
        approveCycle(client, cycleId, {}, asPerson('mallory')),
        (e: unknown) =>
          e instanceof UserError &&
          /mallory may not approve releases of demo; the agent's approvers are alice, bob, carol/.test(
            e.message,
          ),
      );
      // Decisions that are not the API's, or not for now, are refused before history.
      await assert.rejects(
        rawApprove({ approver: 'alice', comment: 'unsigned' }),
        refusedWith(/is not signed/),
      );
      await assert.rejects(
        approveCycle(client, cycleId, {}, forgedAs('alice')),
        (e: unknown) =>
          e instanceof ForbiddenError &&
          /signature of this decision does not match key "flywheel-test"/.test(e.message),
      );
      await assert.rejects(
        approveCycle(client, cycleId, {}, untrustedAs('alice')),
        (e: unknown) =>
          e instanceof ForbiddenError &&
          /key "not-trusted", which this worker does not trust/.test(e.message),
      );
      const bobsApproval = signDecision(testSigner, person('bob'), 'approve', cycleId, {});
      const payload = JSON.parse(bobsApproval.payload) as { principal: { id: string } };
      payload.principal.id = 'alice';
      await assert.rejects(
        rawApprove({ ...bobsApproval, payload: JSON.stringify(payload) }),
        refusedWith(/does not match key/),
        "bob's signature does not carry a payload altered to name alice",
      );
      const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
      await assert.rejects(
        rawApprove(signDecision(testSigner, person('alice'), 'approve', cycleId, {}, tenMinutesAgo)),
        refusedWith(/This decision expired at/),
      );
      await assert.rejects(
        rawApprove(signDecision(testSigner, person('alice'), 'approve', `${cycleId}-other`, {})),
        refusedWith(/signed for .*-other, not /),
      );
      await assert.rejects(
        rawApprove(signDecision(testSigner, person('alice'), 'reject', cycleId, { reason: 'no' })),
        refusedWith(/signed as "reject" and cannot be used to approve/),
      );
      assert.equal(await updates(), 0, 'refused decisions leave no history');

      const alicesApproval = signDecision(testSigner, person('alice'), 'approve', cycleId, {
        comment: 'looks good',
      });
      const first = await handle.executeUpdate(approveUpdate, { args: [alicesApproval] });
      assert.deepEqual(first, { decision: 'pending', decidedBy: 'alice', approvals: 1, required: 2 });
      await assert.rejects(
        handle.executeUpdate(approveUpdate, { args: [alicesApproval] }),
        refusedWith(/already used/),
        'a signed decision applies once',
      );
      // One person approving twice does not make two approvals.
      await assert.rejects(
        approveCycle(client, cycleId, {}, asPerson('alice')),
        (e: unknown) => e instanceof ConflictError && /alice already approved this release/.test(e.message),
      );
      await assert.rejects(rejectCycle(client, cycleId, { reason: ' ' }, asPerson('bob')), UserError);
      assert.equal(await accepted(), 1, 'only the one valid approval is in history');
      const waiting = await cycleStatus(client, cycleId);
      assert.equal(waiting.stage, 'awaiting_approval');
      assert.deepEqual(
        waiting.approval?.approvers,
        ['alice'],
        'one distinct person so far: the 2-person rule waits',
      );
      const second = await approveCycle(client, cycleId, {}, asPerson('bob'));
      assert.equal(second.decision, 'approved');
      assert.equal(second.approvals, 2);
      await assert.rejects(
        approveCycle(client, cycleId, {}, asPerson('carol')),
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
      const rollout = client.workflow.getHandle(rolloutId);
      const rolloutUpdates = await updates(rollout);
      await assert.rejects(
        controlRollout(client, cycleId, 'abort', { reason: 'forged' }, forgedAs('carol')),
        (e: unknown) => e instanceof ForbiddenError && /does not match key/.test(e.message),
      );
      await assert.rejects(
        rollout.executeUpdate('abort', { args: [{ actor: 'carol', reason: 'unsigned' }] }),
        refusedWith(/is not signed/),
      );
      assert.equal(await updates(rollout), rolloutUpdates, 'a refused rollout action leaves no history');
      await controlRollout(client, cycleId, 'abort', { reason: 'not today' }, asPerson('carol'));
      const result = (await handle.result()) as { outcome: string };
      assert.equal(result.outcome, 'rolled_back');

      const audit = await stack.db
        .selectFrom('audit_log')
        .select(['actor', 'action', 'artifact', 'detail'])
        .where('artifact', 'in', [`cycle:${cycleId}`, `rollout:${rolloutId}`])
        .orderBy('id')
        .execute();
      // The audit log names verified principals only: the people the signed decisions named.
      assert.deepEqual(
        audit.map((a) => `${a.actor} ${a.action}`),
        [
          'user:alice approve_release',
          'user:bob approve_release',
          'user:alice, user:bob release_approved',
          'user:carol abort',
        ],
      );
      const signed = audit.filter((a) => a.action !== 'release_approved');
      assert.ok(
        signed.every((a) => (a.detail as { signature?: { kid: string } }).signature?.kid === 'flywheel-test'),
        'each decision row cites the key that signed it',
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
