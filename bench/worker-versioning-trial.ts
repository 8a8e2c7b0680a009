/*
 * `npx tsx bench/worker-versioning-trial.ts`: what Worker Deployment Versioning would mean for
 * a Flywheel deploy, tried on the real stack (Temporal dev server, embedded PostgreSQL, the
 * simulator). A cycle starts pinned to release 1 and waits for reviewers; release 1's worker
 * stops and release 2 becomes the current version, as a one-process `npm start` deploy does.
 * The reviewers' signal then arrives: how long the cycle sits with nobody to run it, whether
 * its status answers, and how long it takes to move once an operator re-pins it to release 2.
 * Writes bench/results/worker-versioning-trial.json; README "Changing workflow code" cites it.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { createActivities } from '../activities/index.js';
import { annotationItems, cycleStatus, startCycle, submitAnnotations } from '../cycles/cycle-service.js';
import { loadTaxonomy } from '../workers/load-taxonomy.js';
import { ISOLATE_TIMEOUT, workflowBundle } from '../workers/flywheel-worker.js';
import { changedWorkflowBundle } from '../test/helpers/changed-workflow-bundle.js';
import { waitForStage } from '../test/helpers/cycle-driver.js';
import { TEST_DECISION_KEYS } from '../test/helpers/test-decision-keys.js';
import { testDataConverter } from '../test/helpers/test-payload-encryption.js';
import { startSeededStack, stopSeededStack } from '../test/helpers/test-stack.js';

const DEPLOYMENT = 'flywheel';
const STALL_WINDOW_MS = 30_000;

const { stack, api } = await startSeededStack({ traces: 200, seed: 9 });
const client = stack.env.client;
const namespace = stack.env.namespace ?? 'default';
const dataConverter = testDataConverter();

const versionedWorker = (buildId: string, bundle: WorkflowBundleWithSourceMap) =>
  Worker.create({
    connection: stack.env.nativeConnection,
    namespace,
    taskQueue: stack.taskQueue,
    workflowBundle: bundle,
    activities: createActivities({
      db: stack.db,
      llm: stack.llm,
      llmConcurrency: 8,
      taxonomy: loadTaxonomy(),
    }),
    dataConverter,
    identity: buildId,
    // Cycles stay on the build that started them: the behaviour whose cost this trial measures.
    workerDeploymentOptions: {
      version: { deploymentName: DEPLOYMENT, buildId },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'PINNED',
    },
    shutdownGraceTime: '10s',
    ...ISOLATE_TIMEOUT,
  });

/** Makes `buildId` the version new workflows start on; the server knows it once its worker polled. */
async function makeCurrent(buildId: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await client.workflowService.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: DEPLOYMENT,
        buildId,
        identity: 'versioning-trial',
      });
      return;
    } catch (error) {
      if (i > 60) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

const completedTasks = async (workflowId: string) =>
  ((await client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).filter(
    (e) => e.workflowTaskCompletedEventAttributes,
  ).length;

const result: Record<string, unknown> = { startedAt: new Date().toISOString() };
try {
  const cycleId = `cycle-demo-versioning-${Date.now()}`;
  const release1 = await versionedWorker(
    'release-1',
    await workflowBundle(TEST_DECISION_KEYS, dataConverter.failureConverterPath),
  );
  await release1.runUntil(async () => {
    await makeCurrent('release-1');
    await startCycle(client, {
      taskQueue: stack.taskQueue,
      workflowId: cycleId,
      input: {
        agent: 'demo',
        seed: 13,
        sampleRate: 0.4,
        maxAnnotationItems: 5,
        annotationDeadlineSeconds: 3600,
      },
    });
    assert.equal(
      (await waitForStage(client, cycleId, ['awaiting_annotation', 'done'])).stage,
      'awaiting_annotation',
    );
  });
  const pinned = (await client.workflow.getHandle(cycleId).describe()).raw.workflowExecutionInfo
    ?.versioningInfo;
  result.pinnedTo = { behavior: pinned?.behavior, version: pinned?.deploymentVersion };

  // The deploy: release 1's process is gone, release 2's runs and is current.
  const release2 = await versionedWorker(
    'release-2',
    await changedWorkflowBundle('patched', {
      decisionKeys: TEST_DECISION_KEYS,
      failureConverterPath: dataConverter.failureConverterPath,
    }),
  );
  await release2.runUntil(async () => {
    await makeCurrent('release-2');
    const before = await completedTasks(cycleId);
    const labels = (await annotationItems(stack.db, cycleId)).map((item) => ({
      itemId: item.id,
      verdict: 'fail' as const,
      comment: 'versioning trial',
    }));
    const signalled = Date.now();
    await submitAnnotations(stack.db, client, cycleId, { reviewer: 'rita', labels });
    const status = await Promise.race([
      cycleStatus(client, cycleId).then(
        (s) => `answered: ${s.stage}`,
        (e: unknown) => `failed: ${e instanceof Error ? e.message : String(e)}`,
      ),
      new Promise<string>((r) => setTimeout(() => r('no answer within 15 s'), 15_000)),
    ]);
    await new Promise((r) => setTimeout(r, Math.max(0, STALL_WINDOW_MS - (Date.now() - signalled))));
    result.afterDeploy = {
      waitedSeconds: STALL_WINDOW_MS / 1000,
      workflowTasksCompletedSinceSignal: (await completedTasks(cycleId)) - before,
      statusQuery: status,
    };

    // The documented way to move a pinned run: an operator re-pins it to the new version.
    const moved = Date.now();
    await client.workflowService.updateWorkflowExecutionOptions({
      namespace,
      workflowExecution: { workflowId: cycleId },
      workflowExecutionOptions: {
        versioningOverride: {
          pinned: {
            behavior:
              proto.temporal.api.workflow.v1.VersioningOverride.PinnedOverrideBehavior
                .PINNED_OVERRIDE_BEHAVIOR_PINNED,
            version: { deploymentName: DEPLOYMENT, buildId: 'release-2' },
          },
        },
      },
      updateMask: { paths: ['versioning_override'] },
    });
    const next = await waitForStage(
      client,
      cycleId,
      ['building_dataset', 'optimizing', 'gating', 'awaiting_approval', 'done'],
      240_000,
    );
    result.afterRepin = { stage: next.stage, secondsToMove: Math.round((Date.now() - moved) / 100) / 10 };
  });
  console.log(JSON.stringify(result, null, 2));
  writeFileSync(
    new URL('./results/worker-versioning-trial.json', import.meta.url),
    `${JSON.stringify(result, null, 2)}\n`,
  );
} finally {
  await stopSeededStack({ stack, api });
}
