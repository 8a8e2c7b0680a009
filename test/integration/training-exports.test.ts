import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { annotationItems, startCycle, submitAnnotations } from '../../cycles/cycle-service.js';
import { exportTrainingFile, FINE_TUNE_DATASET } from '../../datasets/training-export-service.js';
import { datasetIdOf } from '../../datasets/store/dataset-version-writer.js';
import { exportVersion } from '../../datasets/store/dataset-repository.js';
import { lineageOf } from '../../registry/store/lineage-repository.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { truthfulLabels } from '../helpers/truthful-labels.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import type { ApiServer } from '../../api/http-server.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

/*
 * The fine-tune rung end to end: a world where one failure mode is diagnosed as needing
 * fine-tuning, a cycle whose reviewers correct it, the agent's fine-tune dataset that the
 * cycle fills (and the default dataset that the optimizer reads stays free of it), and the
 * training files exported from it with lineage that resolves.
 */
describe('fine-tune and preference exports on real PostgreSQL and Temporal', () => {
  let stack: TestStack;
  let api: ApiServer;
  let cycleId: string;
  // A rule whose expected step is a tool call: the scenario's expected replies carry no
  // text, and a reply with no text cannot be a training target (the exporter skips it).
  const FINE_TUNE_RULE = 'transfer_out_of_scope';

  before(async () => {
    const scenario = structuredClone(loadScenario(AIRLINE_SCENARIO));
    const rule = scenario.rules.find((r) => r.id === FINE_TUNE_RULE)!;
    rule.rung = 'fine_tune';
    ({ stack, api } = await startSeededStack({ traces: 240, seed: 11, scenario }));
    const client = stack.env.client;
    const worker = await stack.newWorker();
    cycleId = `cycle-demo-exports-${Date.now()}`;
    await worker.runUntil(async () => {
      await startCycle(client, {
        taskQueue: stack.taskQueue,
        workflowId: cycleId,
        input: {
          agent: 'demo',
          seed: 4,
          sampleRate: 0.5,
          maxAnnotationItems: 40,
          annotationDeadlineSeconds: 300,
          approvalDeadlineSeconds: 120,
          optimizer: { budget: { maxRollouts: 100, maxTeacherCalls: 10 } },
        },
      });
      const atAnnotation = await waitForStage(client, cycleId, ['awaiting_annotation', 'done']);
      assert.equal(atAnnotation.stage, 'awaiting_annotation', `cycle ended early: ${atAnnotation.outcome}`);
      const items = await annotationItems(stack.db, cycleId);
      await submitAnnotations(stack.db, client, cycleId, {
        reviewer: 'rita',
        labels: truthfulLabels(stack.scenario, items, 'reviewed in the export test'),
      });
      // The dataset is built before the optimizer starts; nothing after it matters here.
      await waitForStage(client, cycleId, ['optimizing', 'gating', 'awaiting_approval', 'done'], 300_000);
      await client.workflow.getHandle(cycleId).terminate('export test done');
    });
  });
  after(() => stopSeededStack({ stack, api }));

  it('puts corrected fine-tune-rung failures in the fine-tune dataset, never in the one the optimizer reads', async () => {
    const { db } = stack;
    const fineTune = await db
      .selectFrom('dataset_versions')
      .select('id')
      .where('dataset_id', '=', datasetIdOf('demo', FINE_TUNE_DATASET))
      .where('cycle_id', '=', cycleId)
      .executeTakeFirstOrThrow();
    const main = await db
      .selectFrom('dataset_versions')
      .select('id')
      .where('dataset_id', '=', datasetIdOf('demo', 'demo'))
      .where('cycle_id', '=', cycleId)
      .executeTakeFirstOrThrow();
    const ftExamples = await exportVersion(db, fineTune.id);
    assert.ok(ftExamples.length > 0, 'the cycle corrected some fine-tune-rung failures');
    const interventions = await db
      .selectFrom('clusters')
      .select(['id', 'intervention'])
      .where(
        'id',
        'in',
        ftExamples.map((e) => e.lineage.clusterId!),
      )
      .execute();
    assert.deepEqual([...new Set(interventions.map((c) => c.intervention))], ['fine_tune']);
    assert.ok(
      ftExamples.every((e) => !e.slices.includes('regression')),
      'nothing gates on this dataset',
    );
    const mainTraces = new Set((await exportVersion(db, main.id)).map((e) => e.lineage.traceId));
    assert.ok(
      ftExamples.every((e) => !mainTraces.has(e.lineage.traceId)),
      'no fine-tune-rung failure reaches the optimizer',
    );
  });

  it('exports the train split as OpenAI SFT and DPO lines whose lineage ids resolve', async () => {
    const { db } = stack;
    const sft = await exportTrainingFile(db, 'demo/fine-tune', {
      format: 'openai-sft',
      systemPrompt: 'production',
    });
    const examples = await exportVersion(db, sft.datasetVersionId);
    const train = examples.filter((e) => e.split === 'train');
    assert.ok(train.length > 0, JSON.stringify(examples.map((e) => e.split)));
    assert.equal(sft.rows.length + sft.skipped.length, train.length);
    assert.equal(sft.withheld.notTrain, examples.length - train.length);
    const trainIds = new Set(train.map((e) => e.id));
    for (const row of sft.rows) {
      const meta = row.metadata as { exampleId: string; traceId: string };
      assert.ok(trainIds.has(meta.exampleId), 'only train examples leave');
      const lineage = await lineageOf(db, meta.exampleId);
      assert.ok(lineage, `lineage of ${meta.exampleId} resolves`);
      const trace = await db
        .selectFrom('traces')
        .select('id')
        .where('id', '=', meta.traceId)
        .executeTakeFirst();
      assert.ok(trace, `trace ${meta.traceId} exists`);
      const messages = row.messages as { role: string }[];
      assert.equal(messages[0]!.role, 'system');
      assert.equal(messages.at(-1)!.role, 'assistant');
    }
    const dpo = await exportTrainingFile(db, 'demo/fine-tune', {
      format: 'openai-dpo',
      systemPrompt: 'none',
    });
    assert.ok(dpo.rows.length > 0, JSON.stringify(dpo.skipped));
    for (const row of dpo.rows) {
      const preferred = JSON.stringify(row.preferred_output);
      const rejected = JSON.stringify(row.non_preferred_output);
      assert.notEqual(preferred, rejected, 'a preference line pairs two different steps');
    }
  });

  it('flywheel dataset export writes a training file and refuses an unknown format', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: stack.databaseUrl };
    const cli = (...args: string[]) =>
      run(path.join(ROOT, 'node_modules/.bin/tsx'), ['scripts/flywheel.ts', ...args], { cwd: ROOT, env });
    const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-export-'));
    try {
      const out = path.join(dir, 'train.jsonl');
      const done = await cli('dataset', 'export', 'demo/fine-tune', '--format', 'hf-chat', '--out', out);
      assert.match(done.stderr, /row\(s\) from the train split; withheld \d+ eval\/holdout/);
      const lines = readFileSync(out, 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      assert.ok(lines.length > 0, done.stderr);
      for (const l of lines) assert.ok(Array.isArray((JSON.parse(l) as { messages: unknown }).messages));
      await assert.rejects(
        cli('dataset', 'export', 'demo/fine-tune', '--format', 'alpaca'),
        (e: { stderr: string; code: number }) => {
          assert.match(e.stderr, /Unknown --format "alpaca": use jsonl, openai-sft, openai-dpo, hf-chat/);
          assert.notEqual(e.code, 0);
          return true;
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
