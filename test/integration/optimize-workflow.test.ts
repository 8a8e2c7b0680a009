/**
 * The optimize child workflow on a real Temporal server, real PostgreSQL and the HTTP
 * simulator: every optimizer runs through the one durable driver with a small budget, and
 * a worker stopped mid-run and replaced yields the same prompt as an uninterrupted run
 * without paying for any task-model call twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { labelledVersion } from '../../registry/store/prompt-repository.js';
import { ChatMessage } from '../../schemas/trace.js';
import { OptimizerChoice } from '../../schemas/optimizer-config.js';
import {
  optimizeWorkflow,
  type OptimizeInput,
  type OptimizeResult,
} from '../../workflows/optimize-workflow.js';
import { findExample } from '../simulator/simulated-models.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import type { ApiServer } from '../../api/http-server.js';

describe('the optimize workflow drives every optimizer durably', () => {
  let stack: TestStack;
  let api: ApiServer;
  let baselineVersionId: string;
  const cycleId = 'cycle-optimize-test';
  const datasetVersionId = 'dsv-optimize-test';

  before(async () => {
    ({ stack, api } = await startSeededStack({ traces: 160, seed: 9 }));
    const { db, scenario } = stack;
    baselineVersionId = (await labelledVersion(db, 'demo', 'production'))!.id;
    const now = new Date();
    await db
      .insertInto('cycles')
      .values({
        id: cycleId,
        agent_id: 'demo',
        run_id: 'r',
        stage: 'optimizing',
        outcome: 'in_progress',
        window_start: now,
        window_end: now,
        input: '{}',
      })
      .execute();
    await db
      .insertInto('dataset_versions')
      .values({ id: datasetVersionId, agent_id: 'demo', version: 1, cycle_id: cycleId })
      .execute();
    // Labelled traces, one per scenario example, as a cycle's dataset builder would promote them.
    const traces = await db
      .selectFrom('traces')
      .select(['id', 'input'])
      .where('agent_id', '=', 'demo')
      .orderBy('id')
      .execute();
    const seen = new Set<string>();
    const rows = traces.flatMap((t) => {
      const text = ChatMessage.array()
        .parse((t.input as { messages: unknown }).messages)
        .map((m) => m.content)
        .join('\n');
      const example = findExample(scenario, text);
      if (!example || seen.has(example.id)) return [];
      seen.add(example.id);
      return [
        {
          id: `ex-${t.id}`,
          dataset_version_id: datasetVersionId,
          trace_id: t.id,
          cluster_id: null,
          annotation_id: null,
          split: 'train' as const,
          input: JSON.stringify(t.input),
          expected: JSON.stringify(example.expected),
        },
      ];
    });
    assert.ok(rows.length >= 30, `enough labelled examples (${rows.length})`);
    await db.insertInto('dataset_examples').values(rows).execute();
  });
  after(() => stopSeededStack({ stack, api }));

  const input = (
    runId: string,
    optimizer: unknown,
    maxRollouts: number,
    maxHistoryEvents = 2000,
  ): OptimizeInput => ({
    cycleId,
    runId,
    agent: 'demo',
    datasetVersionId,
    baselineVersionId,
    seed: 7,
    optimizer: OptimizerChoice.parse(optimizer),
    // A teacher-call cap keeps the test short: each call is an activity round trip.
    budget: { maxRollouts, maxTeacherCalls: 30 },
    stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
    maxHistoryEvents,
  });
  const execute = (i: OptimizeInput) =>
    stack.env.client.workflow.execute(optimizeWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: `opt-${i.runId}`,
      args: [i],
    });

  it('random search, ProTeGi, GEPA and MIPRO each improve the prompt within a small budget', async () => {
    const worker = await stack.newWorker();
    await worker.runUntil(async () => {
      const choices = [
        { name: 'random-search', settings: { proposalsPerCall: 4 } },
        {
          name: 'protegi',
          settings: {
            rounds: 2,
            minibatchSize: 12,
            nGradients: 2,
            bandit: { rounds: 2, armsPerRound: 4, samplesPerPull: 6 },
          },
        },
        { name: 'gepa', settings: { useMerge: true } },
        // Three proposals, not two: with two, MIPRO failed to beat the baseline in 3 of 30
        // seeds in process (30 of 30 with three), and this test runs one seed.
        { name: 'mipro', settings: { numCandidates: 4, numTrials: 8, minibatchSize: 8 } },
      ];
      for (const choice of choices) {
        const result = await execute(input(`run-${choice.name}`, choice, 200));
        assert.equal(result.optimizer, choice.name);
        assert.ok(
          result.rolloutsUsed > 0 && result.rolloutsUsed <= 200,
          `${choice.name}: ${result.rolloutsUsed} rollouts within budget`,
        );
        assert.ok(
          result.bestScore > result.baselineScore,
          `${choice.name}: ${result.bestScore} > ${result.baselineScore}`,
        );
        const run = await stack.db
          .selectFrom('optimization_runs')
          .selectAll()
          .where('id', '=', `run-${choice.name}`)
          .executeTakeFirstOrThrow();
        assert.equal(run.status, 'completed');
        assert.equal(run.best_candidate_id, result.bestCandidateId);
        const best = await stack.db
          .selectFrom('candidates')
          .select(['prompt_text', 'components'])
          .where('id', '=', result.bestCandidateId)
          .executeTakeFirstOrThrow();
        assert.ok(best.prompt_text.length > 0 && best.components !== null);
        assert.ok(run.teacher_calls > 0, `${choice.name} used the teacher`);
      }
    });
  });

  it('records the trajectory while the run is still searching, each snapshot a prefix of the final one', async () => {
    const { db } = stack;
    // Every write to the run's row, as Postgres saw it: no timing, no polling.
    await sql`create table progress_seen (seq bigserial, run_id text, status text, trajectory jsonb)`.execute(
      db,
    );
    await sql`create function note_progress() returns trigger language plpgsql as $$
      begin
        insert into progress_seen (run_id, status, trajectory) values (new.id, new.status, new.trajectory);
        return new;
      end $$`.execute(db);
    await sql`create trigger note_progress after update on optimization_runs
      for each row execute function note_progress()`.execute(db);
    try {
      const worker = await stack.newWorker();
      await worker.runUntil(
        execute(
          input('run-live-progress', { name: 'random-search', settings: { proposalsPerCall: 4 } }, 200),
        ),
      );
      type Point = { rollouts: number; candidateId: string; score: number };
      const { rows } = await sql<{ status: string; trajectory: Point[] }>`
        select status, trajectory from progress_seen where run_id = 'run-live-progress' order by seq`.execute(
        db,
      );
      const final = await db
        .selectFrom('optimization_runs')
        .select(['status', 'trajectory'])
        .where('id', '=', 'run-live-progress')
        .executeTakeFirstOrThrow();
      assert.equal(final.status, 'completed');
      const finalPoints = final.trajectory as Point[];
      const live = rows.filter((r) => r.status === 'running' && r.trajectory.length > 0);
      assert.ok(live.length > 0, `progress recorded while searching: ${rows.length} writes`);
      for (const r of live)
        assert.deepEqual(
          r.trajectory,
          finalPoints.slice(0, r.trajectory.length),
          'a prefix of the final trajectory',
        );
      assert.ok(
        live.every((r, i) => i === 0 || r.trajectory.length >= live[i - 1]!.trajectory.length),
        'the recorded trajectory only grows',
      );
    } finally {
      await sql`drop trigger note_progress on optimization_runs`.execute(db);
      await sql`drop function note_progress()`.execute(db);
      await sql`drop table progress_seen`.execute(db);
    }
  });

  it('a worker stopped mid-run and replaced gives the same final prompt, and no paid task-model call repeats', async () => {
    const choice = { name: 'gepa' };
    const promptOf = async (r: OptimizeResult) =>
      (
        await stack.db
          .selectFrom('candidates')
          .select('prompt_text')
          .where('id', '=', r.bestCandidateId)
          .executeTakeFirstOrThrow()
      ).prompt_text;

    // Uninterrupted reference run; a small history limit forces continue-as-new checkpoints.
    const w1 = await stack.newWorker();
    const reference = await w1.runUntil(execute(input('resume-a', choice, 300, 40)));
    // Forget every cached model answer so the interrupted run pays for its own calls.
    await stack.db.deleteFrom('llm_cache').execute();
    const logStart = stack.simulator.requests.length;

    const handle = await stack.env.client.workflow.start(optimizeWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: 'opt-resume-b',
      args: [input('resume-b', choice, 300, 40)],
    });
    const w2 = await stack.newWorker();
    const running = w2.run();
    const storedScores = async (prefix: string) =>
      Number(
        (
          await stack.db
            .selectFrom('candidate_scores')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('candidate_id', 'like', `${prefix}/%`)
            .executeTakeFirstOrThrow()
        ).n,
      );
    // Wait until the run is well under way (some evaluations stored), then stop the worker.
    // The wait has a bound, and the test fails if the run never got there: stopping a worker
    // that did nothing would prove nothing about resuming.
    let atStop = 0;
    for (let i = 0; i < 1200 && atStop < 60; i++) {
      atStop = await storedScores('resume-b');
      if (atStop < 60) await new Promise((r) => setTimeout(r, 50));
    }
    w2.shutdown();
    await running;
    assert.ok(atStop >= 60, `the run was under way when the worker stopped (${atStop} scores stored)`);
    const { status } = await handle.describe();
    assert.equal(status.name, 'RUNNING', 'the run was interrupted before it finished');

    const w3 = await stack.newWorker();
    const resumed = await w3.runUntil(handle.result());
    assert.equal(
      await promptOf(resumed),
      await promptOf(reference),
      'same final prompt as the uninterrupted run',
    );
    assert.equal(resumed.rolloutsUsed, reference.rolloutsUsed);
    assert.ok(
      (await storedScores('resume-b')) > atStop,
      'the resumed worker did part of the work, not the stopped one',
    );
    assert.equal(resumed.teacherCalls, reference.teacherCalls);

    const agentCalls = stack.simulator.requests.slice(logStart).filter((r) => r.model === 'sim-agent');
    assert.ok(agentCalls.length > 0, 'the resumed run made real task-model calls');
    assert.equal(
      new Set(agentCalls.map((r) => r.key)).size,
      agentCalls.length,
      'no task-model call was paid twice',
    );
  });
});
