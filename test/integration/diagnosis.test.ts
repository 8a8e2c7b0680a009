import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, describe, it } from 'node:test';
import { startCycle } from '../../cycles/cycle-service.js';
import type { ApiServer } from '../../api/http-server.js';
import { ensureAgent } from '../../registry/store/agent-repository.js';
import { createPromptVersion } from '../../registry/store/prompt-repository.js';
import { moveLabel } from '../../registry/label-move-service.js';
import { TraceWriter } from '../../traces/store/trace-writer.js';
import type { CycleStatus } from '../../schemas/cycle-status.js';
import type { TraceRecord } from '../../schemas/trace.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';

describe('scoring and diagnosis on real Temporal and Postgres', () => {
  let stack: TestStack;
  let api: ApiServer;

  before(async () => ({ stack, api } = await startSeededStack({ traces: 300, seed: 21 })));
  after(() => stopSeededStack({ stack, api }));

  const runToAnnotation = async (cycleId: string, seed: number): Promise<CycleStatus> => {
    await startCycle(stack.env.client, {
      taskQueue: stack.taskQueue,
      workflowId: cycleId,
      input: { agent: 'demo', seed, sampleRate: 0.5, annotationDeadlineSeconds: 600 },
    });
    const status = await waitForStage(stack.env.client, cycleId, ['awaiting_annotation', 'done']);
    await stack.env.client.workflow.getHandle(cycleId).terminate('test done');
    return status;
  };

  it('clusters failures into diagnosed clusters whose ids survive into the next cycle, with a stored report', async () => {
    const worker = await stack.newWorker();
    await worker.runUntil(async () => {
      const first = await runToAnnotation(`cycle-demo-diag-a-${Date.now()}`, 3);
      const second = await runToAnnotation(`cycle-demo-diag-b-${Date.now()}`, 4);
      const a = first.clusters ?? [];
      const b = second.clusters ?? [];
      assert.ok(a.length >= 3, `several failure modes are told apart (got ${a.length})`);
      for (const c of a) {
        assert.match(
          c.category,
          /^(infra|context|tool_selection|retrieval|memory|planning|policy_escalation)\//,
        );
        assert.ok(c.isNew, 'the first cycle of an agent only has new clusters');
      }
      assert.equal(
        a.reduce((n, c) => n + c.size, 0),
        first.scoring!.failing,
        'every failing trace is in a cluster',
      );
      const kept = b.filter((c) => !c.isNew);
      assert.ok(
        kept.length >= 3,
        `clusters keep their ids across cycles (kept ${kept.length} of ${b.length})`,
      );
      for (const c of kept) {
        const before = a.find((x) => x.stableId === c.stableId);
        assert.ok(before, `${c.stableId} existed in the first cycle`);
        assert.equal(c.category, before.category, `${c.stableId} is still the same failure mode`);
      }
      assert.ok(
        second.scoring!.judgeCalls < second.scoring!.judgeCallsWithoutCascade,
        'the cascade saves judge calls',
      );

      const report = await stack.db
        .selectFrom('cycle_reports')
        .select('markdown')
        .where('cycle_id', '=', second.cycleId)
        .executeTakeFirstOrThrow();
      for (const c of b)
        assert.ok(report.markdown.includes(`\`${c.stableId}\``), `report lists ${c.stableId}`);
      assert.match(report.markdown, /Immediate fix \(prompt\)/);
      assert.match(report.markdown, /seen before/);

      // The judge answered one routine request off-schema twice: an evaluator error per
      // trace, never a score; the one it got right on the retry is scored normally.
      const errors = await stack.db
        .selectFrom('evaluator_errors')
        .innerJoin('traces', 'traces.id', 'evaluator_errors.trace_id')
        .select(['evaluator_errors.error', 'evaluator_errors.evaluator', 'traces.attributes'])
        .where('evaluator_errors.cycle_id', '=', second.cycleId)
        .execute();
      assert.ok(errors.length > 0, 'malformed judge replies are recorded');
      for (const e of errors) {
        assert.equal((e.attributes as { example: string }).example, 'ex-038');
        assert.match(e.error, /did not match the .* schema twice/);
      }
      assert.match(report.markdown, /## Evaluator errors/);
      const errored = await stack.db
        .selectFrom('scores')
        .innerJoin('evaluator_errors', (j) =>
          j
            .onRef('evaluator_errors.trace_id', '=', 'scores.trace_id')
            .onRef('evaluator_errors.evaluator', '=', 'scores.evaluator')
            .onRef('evaluator_errors.cycle_id', '=', 'scores.cycle_id'),
        )
        .select('scores.id')
        .where('scores.cycle_id', '=', second.cycleId)
        .execute();
      assert.equal(errored.length, 0, 'no score stands in for an evaluator error');
      const retried = await stack.db
        .selectFrom('scores')
        .innerJoin('traces', 'traces.id', 'scores.trace_id')
        .select('scores.label')
        .where('scores.cycle_id', 'in', [first.cycleId, second.cycleId])
        .where('scores.source', '=', 'judge')
        .where(sql<boolean>`traces.attributes ->> 'example' = 'ex-039'`)
        .execute();
      assert.ok(retried.length > 0, 'a reply repaired on the retry is scored');
    });
  });

  it('says in the report that there was nothing to diagnose when nothing failed', async () => {
    const scenario = stack.scenario;
    await ensureAgent(stack.db, 'quiet', {
      evaluation: { judge: { dimensions: ['task_completion'] }, cascade: { auditShare: 0 } },
    });
    const v1 = await createPromptVersion(stack.db, 'quiet', scenario.basePrompt, 'seed', null);
    await moveLabel(stack.db, 'quiet', 'production', v1.id, 'test', 'seed');
    const routine = scenario.examples.filter((e) => e.rule === null).slice(0, 6);
    const now = Date.now();
    const traces: TraceRecord[] = routine.map((e, i) => ({
      id: `quiet-${now}-${i}`,
      agent: 'quiet',
      timestamp: new Date(now - 3_600_000 + i * 1000).toISOString(),
      input: { messages: [{ role: 'user', content: e.request }] },
      output: e.expected,
      expected: e.expected,
      status: 'ok',
      spans: [],
      attributes: {},
    }));
    await new TraceWriter(stack.db).write(traces);
    const worker = await stack.newWorker();
    await worker.runUntil(async () => {
      const cycleId = `cycle-quiet-${now}`;
      await startCycle(stack.env.client, {
        taskQueue: stack.taskQueue,
        workflowId: cycleId,
        input: { agent: 'quiet', seed: 1, sampleRate: 1 },
      });
      const status = await waitForStage(stack.env.client, cycleId, ['done']);
      assert.equal(status.outcome, 'no_failures', 'a week where nothing failed is not missing data');
      assert.equal(status.scoring?.failing, 0);
      assert.equal(status.scoring?.judgeCalls, 0, 'the gold-step check decided every trace');
      const report = await stack.db
        .selectFrom('cycle_reports')
        .select('markdown')
        .where('cycle_id', '=', cycleId)
        .executeTakeFirstOrThrow();
      assert.match(report.markdown, /No failing traces in this sample/);
    });
  });
});
