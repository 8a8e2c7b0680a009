import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../workers/flywheel-worker.js';
import { testDataConverter } from '../helpers/test-payload-encryption.js';

interface JsonHistory {
  events: {
    eventType: string;
    startChildWorkflowExecutionInitiatedEventAttributes?: { workflowId: string };
  }[];
}

/** Child IDs derive from the cycle's ID, so replay must use the original workflow ID. */
const originalWorkflowId = (h: JsonHistory) =>
  h.events
    .find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)!
    .startChildWorkflowExecutionInitiatedEventAttributes!.workflowId.replace(/-optimize$/, '');

// Exported with `temporal workflow show -o json` from a real cycle (see README "Replay fixtures").
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../histories/${name}`, import.meta.url), 'utf8')) as JsonHistory;

describe('replay of committed cycle histories', () => {
  it('replays a released cycle (annotation, approval, rollout) without non-determinism', async () => {
    const history = fixture('cycle-released.json');
    const types = history.events.map((e) => e.eventType);
    assert.ok(
      types.includes('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED'),
      'the fixture contains the approval update',
    );
    assert.ok(types.includes('EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'), 'and the annotation signal');
    await Worker.runReplayHistory(
      // With the payload codec, as the workers run: a history recorded before encryption was
      // turned on (this fixture) replays, its plain payloads passing through decode.
      { workflowBundle: await workflowBundle(), dataConverter: testDataConverter() },
      history,
      originalWorkflowId(history),
    );
  });

  it('detects a workflow that no longer matches its history', async () => {
    const history = fixture('cycle-released.json');
    // Drop the first scheduled activity: replaying the code now diverges from the history.
    const first = history.events.findIndex((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
    const tampered = { ...history, events: history.events.filter((_, i) => i < first || i > first + 2) };
    await assert.rejects(
      Worker.runReplayHistory(
        { workflowBundle: await workflowBundle(), dataConverter: testDataConverter() },
        tampered,
        originalWorkflowId(history),
      ),
    );
  });
});
