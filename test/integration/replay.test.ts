import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { ENCRYPTED_ENCODING } from '../../workers/payload-codec.js';
import { workflowBundle } from '../../workers/flywheel-worker.js';
import {
  CORPUS_OUTCOMES,
  corpus,
  corpusReleases,
  readHistory,
  readManifest,
  replayCorpus,
} from '../helpers/history-corpus.js';
import { testDataConverter } from '../helpers/test-payload-encryption.js';

interface JsonHistory {
  events: {
    eventType: string;
    workflowExecutionStartedEventAttributes?: {
      input?: { payloads?: { metadata?: Record<string, string> }[] };
    };
  }[];
}

/**
 * As the workers run: the payload codec with the fixed test key the corpus was recorded
 * with (histories of releases before encryption hold plain payloads, which decode passes
 * through), and the failure converter bundled into workflow code.
 */
const replayOptions = async () => {
  const dataConverter = testDataConverter();
  return { workflowBundle: await workflowBundle({}, dataConverter.failureConverterPath), dataConverter };
};

// See README "Replay fixtures": `npm run history:record` adds a release folder.
describe('replay of the committed history corpus against the current workflow code', () => {
  const histories = corpus();
  // One replay worker for the whole corpus, started by the first test that needs it.
  let replayed: Promise<(Error | undefined)[]> | undefined;
  const errorOf = async (i: number) =>
    (await (replayed ??= replayOptions().then((o) => replayCorpus(o, histories))))[i];

  for (const [i, h] of histories.entries()) {
    const what = h.state === 'running' ? 'still waiting' : h.state;
    it(`replays ${h.release}/${h.file}: ${h.workflowType}, ${what} (${h.outcome})`, async () => {
      const error = await errorOf(i);
      assert.equal(error, undefined, `${error?.name}: ${error?.message}`);
    });
  }

  it('holds, for the newest release, every outcome a deploy meets, with the children those cycles started', () => {
    const newest = corpusReleases()
      .map(readManifest)
      .sort((a, b) => a.recordedAt.localeCompare(b.recordedAt))
      .at(-1)!;
    const entries = (outcome: string, type: string) =>
      newest.entries.filter((e) => e.outcome === outcome && e.workflowType === type);
    for (const outcome of CORPUS_OUTCOMES)
      assert.equal(entries(outcome, 'cycleWorkflow').length, 1, `${newest.release} has a ${outcome} cycle`);
    for (const outcome of ['awaiting-approval', 'awaiting-reviewers'])
      assert.equal(
        entries(outcome, 'cycleWorkflow')[0]!.state,
        'running',
        `${outcome} was recorded in flight`,
      );
    for (const outcome of ['released', 'rolled-back', 'gate-failed'])
      assert.ok(entries(outcome, 'optimizeWorkflow').length > 0, `${outcome} has its optimizer's history`);
    for (const outcome of ['released', 'rolled-back'])
      assert.equal(entries(outcome, 'rolloutWorkflow').length, 1, `${outcome} has its rollout's history`);
    assert.ok(
      newest.entries.some((e) => e.workflowType === 'optimizeWorkflow' && e.state === 'continued-as-new'),
      'an optimizer run that continued as new',
    );
    assert.equal(newest.payloads, 'test-key');
    for (const e of newest.entries) {
      const started = (readHistory(newest.release, e.file) as JsonHistory).events[0]!;
      const encoding =
        started.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.metadata?.encoding;
      assert.equal(
        Buffer.from(encoding ?? '', 'base64').toString(),
        ENCRYPTED_ENCODING,
        `${e.file} holds encrypted payloads: replaying it exercises the test key`,
      );
    }
  });

  it('detects a workflow that no longer matches its history', async () => {
    const released = histories.find((h) => h.outcome === 'released' && h.workflowType === 'cycleWorkflow')!;
    const history = readHistory(released.release, released.file) as JsonHistory;
    // Drop the first scheduled activity: replaying the code now diverges from the history.
    const first = history.events.findIndex((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
    const tampered = { ...history, events: history.events.filter((_, i) => i < first || i > first + 2) };
    await assert.rejects(Worker.runReplayHistory(await replayOptions(), tampered, released.workflowId));
  });
});
