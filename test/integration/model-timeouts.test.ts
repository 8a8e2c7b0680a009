import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { queueTemplate } from '../../annotation/annotation-service.js';
import type { ApiServer } from '../../api/http-server.js';
import { startCycle, submitAnnotations } from '../../cycles/cycle-service.js';
import { optimizeWorkflowId } from '../../workflows/workflow-ids.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { scheduledTimeouts } from '../helpers/scheduled-timeouts.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';

describe('model activity timeouts from the cycle input', () => {
  let stack: TestStack;
  let api: ApiServer;
  before(async () => ({ stack, api } = await startSeededStack({ traces: 120, seed: 9 })));
  after(() => stopSeededStack({ stack, api }));

  it('gives scoring, diagnosis, optimizer evaluations and teacher calls the limits a slow model server needs', async () => {
    const client = stack.env.client;
    const worker = await stack.newWorker();
    await worker.runUntil(async () => {
      const cycleId = `cycle-timeouts-${Date.now()}`;
      await startCycle(client, {
        taskQueue: stack.taskQueue,
        workflowId: cycleId,
        input: {
          agent: 'demo',
          sampleRate: 0.5,
          maxAnnotationItems: 20,
          modelTimeouts: { batchMinutes: 45, teacherMinutes: 7 },
          optimizer: { budget: { maxRollouts: 60, maxTeacherCalls: 2 } },
        },
      });
      const atAnnotation = await waitForStage(client, cycleId, ['awaiting_annotation', 'done']);
      assert.equal(atAnnotation.stage, 'awaiting_annotation', `ended early: ${atAnnotation.outcome}`);
      await submitAnnotations(stack.db, client, cycleId, await queueTemplate(stack.db, cycleId, 'rita'));
      await waitForStage(client, cycleId, ['gating', 'awaiting_approval', 'done'], 240_000);

      const cycle = await scheduledTimeouts(client, cycleId);
      assert.deepEqual(cycle.get('scoreSample'), [45 * 60]);
      assert.deepEqual(cycle.get('diagnoseFailures'), [45 * 60]);
      const optimize = await scheduledTimeouts(client, optimizeWorkflowId(cycleId));
      const evaluations = optimize.get('evaluateSearchBatch') ?? [];
      const teacher = optimize.get('teachOptimizer') ?? [];
      assert.ok(
        evaluations.length > 0 && evaluations.every((s) => s === 45 * 60),
        `evaluations: ${evaluations.join(', ')}`,
      );
      assert.ok(
        teacher.length > 0 && teacher.every((s) => s === 7 * 60),
        `teacher calls: ${teacher.join(', ')}`,
      );
      // The cycle may already have ended (a gate that found no gain); otherwise stop it here.
      await client.workflow
        .getHandle(cycleId)
        .terminate('test done')
        .catch(() => undefined);
    });
  });
});
