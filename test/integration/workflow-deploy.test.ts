import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { temporal } from '@temporalio/proto';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { approveCycle, rejectCycle, startCycle } from '../../cycles/cycle-service.js';
import type { ApiServer } from '../../api/http-server.js';
import type { CycleInputArg } from '../../schemas/cycle-input.js';
import { APPROVERS_REREAD_PATCH } from '../fixtures/workflow-change/approvers-reread.js';
import { changedWorkflowBundle } from '../helpers/changed-workflow-bundle.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { corpus, replayAll, replayCorpus, type CorpusHistory } from '../helpers/history-corpus.js';
import { asPerson, TEST_DECISION_KEYS } from '../helpers/test-decision-keys.js';
import { testDataConverter } from '../helpers/test-payload-encryption.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Quick stages and a gate any improvement passes: this file is about the deploy, not the cycle. */
const cycleInput = {
  agent: 'demo',
  seed: 13,
  sampleRate: 0.4,
  maxAnnotationItems: 5,
  annotationDeadlineSeconds: 2,
  approvalDeadlineSeconds: 600,
  optimizer: {
    choice: { name: 'random-search', settings: { proposalsPerCall: 4 } },
    budget: { maxRollouts: 300 },
  },
  gate: {
    assertions: [{ dimension: 'outcome_match', metric: 'mean', threshold: 0 }],
    nonRegression: { tolerance: 1 },
    holdout: { maxDrop: 1 },
    requireImprovement: null,
  },
  rollout: { steps: [{ setWeight: 100 }] },
} satisfies CycleInputArg;

const scheduled = (events: HistoryEvent[], activity: string) =>
  events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity).length;
const patchMarkers = (events: HistoryEvent[]) =>
  events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length;

/** The corpus cycles that passed the gate: the change sits at the approval step. */
const reachedApproval = (h: CorpusHistory) =>
  h.workflowType === 'cycleWorkflow' && ['released', 'rolled-back', 'awaiting-approval'].includes(h.outcome);

describe('a deploy with changed workflow code meets cycles in flight', () => {
  let stack: TestStack;
  let api: ApiServer;
  // The next release's workflow code, with the change behind patched() and without it.
  let patched: WorkflowBundleWithSourceMap;
  let unguarded: WorkflowBundleWithSourceMap;
  const bundleOptions = {
    decisionKeys: TEST_DECISION_KEYS,
    failureConverterPath: testDataConverter().failureConverterPath,
  };

  before(async () => {
    ({ stack, api } = await startSeededStack({ traces: 200, seed: 9 }));
    patched = await changedWorkflowBundle('patched', bundleOptions);
    unguarded = await changedWorkflowBundle('unguarded', bundleOptions);
  });
  after(() => stopSeededStack({ stack, api }));

  it('a cycle waiting for approval when the next release deploys is approved and released on it; new cycles take the changed step', async () => {
    const client = stack.env.client;
    const cycleId = `cycle-demo-deploy-${Date.now()}`;
    const released = await stack.newWorker({ identity: 'flywheel-release-1' });
    await released.runUntil(async () => {
      await startCycle(client, { taskQueue: stack.taskQueue, workflowId: cycleId, input: cycleInput });
      const status = await waitForStage(client, cycleId, ['awaiting_approval', 'done'], 240_000);
      assert.equal(
        status.stage,
        'awaiting_approval',
        `ended ${status.outcome}: ${JSON.stringify(status.gate)}`,
      );
    });
    // runUntil returned: release 1's worker has shut down, its cached cycle with it.
    const handle = client.workflow.getHandle(cycleId);
    const atDeploy = (await handle.fetchHistory()).events ?? [];

    const next = await stack.newWorker({ workflowBundle: patched, identity: 'flywheel-release-2' });
    const newCycleId = `${cycleId}-after-deploy`;
    await next.runUntil(async () => {
      // A cycle started on release 2 (while the first still waits, so both gate against the
      // same production prompt) reaches approval through the changed step.
      await startCycle(client, { taskQueue: stack.taskQueue, workflowId: newCycleId, input: cycleInput });
      const status = await waitForStage(client, newCycleId, ['awaiting_approval', 'done'], 240_000);
      assert.equal(
        status.stage,
        'awaiting_approval',
        `ended ${status.outcome}: ${JSON.stringify(status.gate)}`,
      );

      // The approver of the first cycle answers days later, to whichever release runs by then.
      const answer = await approveCycle(client, cycleId, { comment: 'after the deploy' }, asPerson('alice'));
      assert.equal(answer.decision, 'approved');
      assert.equal(((await handle.result()) as { outcome: string }).outcome, 'released');
      await rejectCycle(
        client,
        newCycleId,
        { reason: 'the first cycle released this week' },
        asPerson('bob'),
      );
      assert.equal(
        ((await client.workflow.getHandle(newCycleId).result()) as { outcome: string }).outcome,
        'rejected',
      );
    });

    const events = (await handle.fetchHistory()).events ?? [];
    const tasksBy = (list: HistoryEvent[]) =>
      new Set(list.flatMap((e) => e.workflowTaskCompletedEventAttributes?.identity ?? []));
    assert.deepEqual([...tasksBy(atDeploy)], ['flywheel-release-1']);
    assert.deepEqual(
      [...tasksBy(events.slice(atDeploy.length))],
      ['flywheel-release-2'],
      'release 2 replayed the cycle and ran it to the end',
    );
    assert.equal(patchMarkers(events), 0, 'the cycle in flight kept the path its history recorded');
    assert.equal(scheduled(events, 'cyclePolicies'), 1, 'so its approvers were not read again');

    const started = (await client.workflow.getHandle(newCycleId).fetchHistory()).events ?? [];
    assert.equal(
      patchMarkers(started),
      1,
      `a cycle started on release 2 records the ${APPROVERS_REREAD_PATCH} patch`,
    );
    assert.equal(
      scheduled(started, 'cyclePolicies'),
      2,
      'and reads its approvers again when the gate passes',
    );

    // Both histories replay on release 2's code; release 2 without the guard cannot replay the first.
    const replay = async (workflowBundle: WorkflowBundleWithSourceMap, ...ids: string[]) =>
      replayAll(
        { workflowBundle, dataConverter: testDataConverter() },
        await Promise.all(
          ids.map(async (id) => ({
            workflowId: id,
            history: await client.workflow.getHandle(id).fetchHistory(),
          })),
        ),
      );
    assert.deepEqual(await replay(patched, cycleId, newCycleId), [undefined, undefined]);
    const [inFlight] = await replay(unguarded, cycleId);
    assert.equal(inFlight?.name, 'DeterminismViolationError', String(inFlight));
  });

  it('the corpus replays on the patched release, and catches the same change without patched() in every recorded cycle that reached approval', async () => {
    const histories = corpus();
    const options = (workflowBundle: WorkflowBundleWithSourceMap) => ({
      workflowBundle,
      dataConverter: testDataConverter(),
    });
    const withPatch = await replayCorpus(options(patched), histories);
    assert.deepEqual(
      histories
        .filter((_, i) => withPatch[i])
        .map((h) => `${h.release}/${h.file}: ${withPatch[histories.indexOf(h)]}`),
      [],
    );

    const withoutPatch = await replayCorpus(options(unguarded), histories);
    const failed = histories.filter((_, i) => withoutPatch[i]);
    assert.deepEqual(
      failed.map((h) => `${h.release}/${h.file}`),
      histories.filter(reachedApproval).map((h) => `${h.release}/${h.file}`),
      'exactly the cycles that reached approval fail (the others, and children, never run the changed step)',
    );
    for (const [i, h] of histories.entries()) {
      const error = withoutPatch[i];
      if (error) assert.equal(error.name, 'DeterminismViolationError', `${h.file}: ${String(error)}`);
    }
    assert.ok(
      failed.some((h) => h.outcome === 'awaiting-approval'),
      'including a cycle still waiting',
    );
  });
});
