/*
 * `npm run history:record -- [release]`: records the replay corpus of this release into
 * test/histories/<release>/ from real cycles on a real stack (Temporal dev server, embedded
 * PostgreSQL, the simulator), with payloads encrypted by the fixed test key the replay test
 * decodes with. A deliberate step after a workflow change (README "Replay fixtures"), never
 * part of `npm test`: it runs three cycles through the optimizer, a few minutes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { annotationItems, approveCycle, startCycle, submitAnnotations } from '../../cycles/cycle-service.js';
import { controlRollout } from '../../release/rollout-service.js';
import type { CycleInputArg } from '../../schemas/cycle-input.js';
import { waitForStage } from './cycle-driver.js';
import { HISTORIES_DIR, recordCycle, writeManifest, type CorpusEntry } from './history-corpus.js';
import { asPerson } from './test-decision-keys.js';
import { startSeededStack, stopSeededStack, type TestStack } from './test-stack.js';
import { truthfulLabels } from './truthful-labels.js';

const packageVersion = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const release =
  process.argv[2] ?? `${packageVersion}-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`;
const dir = path.join(HISTORIES_DIR, release);
if (!/^[A-Za-z0-9._-]+$/.test(release)) throw new Error(`Release names are [A-Za-z0-9._-]: "${release}"`);
if (existsSync(dir))
  throw new Error(
    `${dir} exists: a release's corpus is what that release's workers wrote, so it is never re-recorded. ` +
      'Name the new release: npm run history:record -- <release>',
  );

/** Quick stages (random search, a small budget), with the waits for people long enough to record them. */
const base = {
  agent: 'demo',
  seed: 13,
  sampleRate: 0.4,
  maxAnnotationItems: 5,
  approvalDeadlineSeconds: 600,
  optimizer: {
    choice: { name: 'random-search' as const, settings: { proposalsPerCall: 4 } },
    budget: { maxRollouts: 300 },
  },
  // Any improvement passes: these cycles are about the shapes of their histories, not the gate.
  gate: {
    assertions: [{ dimension: 'outcome_match', metric: 'mean' as const, threshold: 0 }],
    nonRegression: { tolerance: 1 },
    holdout: { maxDrop: 1 },
    requireImprovement: null,
  },
} satisfies CycleInputArg;

async function main(): Promise<void> {
  const started = Date.now();
  const { stack, api } = await startSeededStack({ traces: 200, seed: 9 });
  try {
    const worker = await stack.newWorker();
    const entries = await worker.runUntil(() => {
      const releasing = released(stack);
      // An agent has one live rollout: a second one starting would supersede the first.
      return Promise.all([releasing, rolledBack(stack, releasing), gateFailed(stack)]).then((all) =>
        all.flat(),
      );
    });
    writeManifest(dir, {
      release,
      recordedAt: new Date().toISOString(),
      commit: execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(),
      payloads: 'test-key',
      entries: entries.sort((a, b) => a.file.localeCompare(b.file)),
    });
    console.log(
      `Recorded ${entries.length} histories into ${path.relative(process.cwd(), dir)} in ${Math.round((Date.now() - started) / 1000)} s.`,
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await stopSeededStack({ stack, api });
  }
}

/**
 * Reviewers label the queue (the annotation signal), one approver approves (the approve
 * Update), and the rollout ramps to 100%. Its history is also recorded twice on the way,
 * while it waits for reviewers and while it waits for approval: what a deployed worker
 * picks up of a cycle in flight. Its optimizer continues as new, as long searches do.
 */
async function released(stack: TestStack): Promise<CorpusEntry[]> {
  const client = stack.env.client;
  const cycleId = await start(stack, 'released', {
    ...base,
    annotationDeadlineSeconds: 600,
    // The optimizer continues as new every few steps, so the corpus holds a chain of its runs.
    optimizer: { ...base.optimizer, maxHistoryEvents: 40 },
    rollout: { steps: [{ setWeight: 50 }, { setWeight: 100 }] },
  });
  await reach(client, cycleId, 'awaiting_annotation');
  const entries = await recordCycle(client, dir, 'awaiting-reviewers', cycleId, { children: false });
  const labels = truthfulLabels(
    stack.scenario,
    await annotationItems(stack.db, cycleId),
    'recorded for the replay corpus',
  );
  assert.equal(
    (await submitAnnotations(stack.db, client, cycleId, { reviewer: 'rita', labels })).complete,
    true,
  );
  await reach(client, cycleId, 'awaiting_approval');
  entries.push(...(await recordCycle(client, dir, 'awaiting-approval', cycleId, { children: false })));
  await approveCycle(client, cycleId, { comment: 'ship it' }, asPerson('alice'));
  assert.equal(
    ((await client.workflow.getHandle(cycleId).result()) as { outcome: string }).outcome,
    'released',
  );
  return [...entries, ...(await recordCycle(client, dir, 'released', cycleId))];
}

/**
 * The annotation deadline passes (judge labels), the release is approved once the released
 * cycle's rollout has finished, and an operator aborts the rollout on its indefinite pause (a rollout Update), which rolls it back.
 */
async function rolledBack(stack: TestStack, afterRelease: Promise<unknown>): Promise<CorpusEntry[]> {
  const client = stack.env.client;
  const cycleId = await start(stack, 'rolled-back', {
    ...base,
    annotationDeadlineSeconds: 2,
    rollout: { steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 100 }] },
  });
  await reach(client, cycleId, 'awaiting_approval');
  await afterRelease;
  await approveCycle(client, cycleId, {}, asPerson('bob'));
  await reach(client, cycleId, 'rolling_out');
  const rolloutId = `${cycleId}-rollout`;
  for (let i = 0; ; i++) {
    const row = await stack.db
      .selectFrom('rollouts')
      .select('phase')
      .where('id', '=', rolloutId)
      .executeTakeFirst();
    if (row?.phase === 'paused') break;
    assert.ok(i < 240, `rollout ${rolloutId} never paused`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await controlRollout(
    client,
    cycleId,
    'abort',
    { reason: 'recorded for the replay corpus' },
    asPerson('carol'),
  );
  assert.equal(
    ((await client.workflow.getHandle(cycleId).result()) as { outcome: string }).outcome,
    'rolled_back',
  );
  return recordCycle(client, dir, 'rolled-back', cycleId);
}

/** A gate no candidate can pass (a perfect mean outcome match): the cycle ends with its report. */
async function gateFailed(stack: TestStack): Promise<CorpusEntry[]> {
  const client = stack.env.client;
  const cycleId = await start(stack, 'gate-failed', {
    ...base,
    annotationDeadlineSeconds: 2,
    gate: { ...base.gate, assertions: [{ dimension: 'outcome_match', metric: 'mean', threshold: 1 }] },
  });
  assert.equal(
    ((await client.workflow.getHandle(cycleId).result()) as { outcome: string }).outcome,
    'gate_failed',
  );
  return recordCycle(client, dir, 'gate-failed', cycleId);
}

async function start(stack: TestStack, name: string, input: CycleInputArg): Promise<string> {
  const cycleId = `cycle-demo-corpus-${name}-${Date.now()}`;
  await startCycle(stack.env.client, { taskQueue: stack.taskQueue, workflowId: cycleId, input });
  return cycleId;
}

async function reach(
  client: Client,
  cycleId: string,
  stage: 'awaiting_annotation' | 'awaiting_approval' | 'rolling_out',
): Promise<void> {
  const status = await waitForStage(client, cycleId, [stage, 'done'], 600_000);
  assert.equal(status.stage, stage, `${cycleId} ended ${status.outcome} before ${stage}`);
}

await main();
