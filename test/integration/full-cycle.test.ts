import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { personWithToken } from '../helpers/api-credentials.js';
import {
  approveCycle,
  annotationItems,
  startCycle,
  submitAnnotations,
  listCycles,
} from '../../cycles/cycle-service.js';
import { asPerson } from '../helpers/test-decision-keys.js';
import type { ApiServer } from '../../api/http-server.js';
import { labelledVersion } from '../../registry/store/prompt-repository.js';
import { ChatMessage } from '../../schemas/trace.js';
import { CycleStage } from '../../schemas/cycle-input.js';
import { FlywheelAgent, FlywheelOutcome, FlywheelStage } from '../../workflows/search-attributes.js';
import { findExample } from '../simulator/simulated-models.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { startDemoTraffic } from '../../scripts/demo-traffic.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import { UserError } from '../../schemas/user-error.js';
import type { AgentKpis } from '../../cycles/cycle-kpis.js';
import { kpisOfAgent } from '../../cycles/kpi-service.js';

describe('an improvement cycle end to end on a real Temporal server and real PostgreSQL', () => {
  let stack: TestStack;
  let api: ApiServer;

  before(async () => ({ stack, api } = await startSeededStack({ traces: 240, seed: 5 })));
  after(() => stopSeededStack({ stack, api }));

  it('samples, scores, diagnoses, waits for reviewers, optimizes, gates, waits for approval and rolls out', async () => {
    const client = stack.env.client;
    const worker = await stack.newWorker();
    await worker.runUntil(async () => {
      const cycleId = `cycle-demo-test-${Date.now()}`;
      await startCycle(client, {
        taskQueue: stack.taskQueue,
        workflowId: cycleId,
        input: {
          agent: 'demo',
          seed: 3,
          sampleRate: 0.4,
          maxAnnotationItems: 30,
          annotationDeadlineSeconds: 120,
          approvalDeadlineSeconds: 120,
          // maxHistoryEvents 40 continues the optimizer as new every few steps (~1 s each
          // here); the teacher cap bounds how many steps the search takes, which otherwise
          // varied enough (reflection calls per proposal) to pass the 240 s wait below.
          optimizer: { budget: { maxRollouts: 600, maxTeacherCalls: 60 }, maxHistoryEvents: 40 },
          // The gate is the default one: better than production on the eval split, worse
          // nowhere (no absolute bar: the eval mixes failures with passing traces, and what
          // share of each lands in ~12 eval examples varies).
          rollout: {
            steps: [
              { replay: { traces: 20, minTraces: 5 } },
              { setWeight: 50 },
              { analysis: {} },
              { setWeight: 100 },
            ],
            // Up to 40 inconclusive looks (2 minutes): on a loaded machine the traffic below
            // can take that long to give each share 10 traces, and a paused rollout would
            // wait for a human this test does not play (seen at load 12–15).
            analysis: {
              intervalSeconds: 3,
              count: 1,
              minSamples: 10,
              inconclusiveLimit: 40,
              metrics: [{ name: 'success_rate', failureCondition: 'result < baseline - 0.15' }],
            },
          },
        },
      });
      const handle = client.workflow.getHandle(cycleId);

      const atAnnotation = await waitForStage(client, cycleId, ['awaiting_annotation', 'done']);
      assert.equal(atAnnotation.stage, 'awaiting_annotation', `cycle ended early: ${atAnnotation.outcome}`);
      assert.ok((atAnnotation.sample?.negative ?? 0) > 0, 'every negatively rated trace is sampled');
      assert.ok((atAnnotation.clusters?.length ?? 0) >= 2, 'failures are grouped into several clusters');

      // An approval before the gate is rejected by the validator and leaves no history.
      await assert.rejects(
        approveCycle(client, cycleId, {}, asPerson('alice')),
        (e: unknown) => e instanceof UserError && /not waiting for approval/.test(e.message),
      );
      const updateEvents = ((await handle.fetchHistory()).events ?? []).filter(
        (e) =>
          e.workflowExecutionUpdateAcceptedEventAttributes ||
          e.workflowExecutionUpdateAdmittedEventAttributes ||
          e.workflowExecutionUpdateCompletedEventAttributes,
      );
      assert.equal(updateEvents.length, 0, 'a rejected update writes nothing to history');
      assert.equal(
        (await waitForStage(client, cycleId, ['awaiting_annotation'])).stage,
        'awaiting_annotation',
        'and does not move the cycle',
      );

      // Reviewers label every queued item through the same call the CLI uses.
      const items = await annotationItems(stack.db, cycleId);
      assert.ok(items.length > 0 && items.length <= 30);
      const labels = items.map((item) => {
        const request = ChatMessage.array()
          .parse((item.input as { messages: unknown }).messages)
          .map((m) => m.content)
          .join('\n');
        const example = findExample(stack.scenario, request);
        assert.ok(example, 'queued traces come from the scenario');
        // Reviewers judge truthfully: a step is right when it is the example's expected one.
        const did = (item.output as { action: string }).action;
        return {
          itemId: item.id,
          verdict: did === example.expected.action ? ('pass' as const) : ('fail' as const),
          expected: example.expected,
          comment: 'reviewed in test',
        };
      });
      const submitted = await submitAnnotations(stack.db, client, cycleId, { reviewer: 'rita', labels });
      assert.equal(submitted.complete, true);

      const atApproval = await waitForStage(client, cycleId, ['awaiting_approval', 'done'], 240_000);
      assert.equal(
        atApproval.stage,
        'awaiting_approval',
        `gate did not pass: ${JSON.stringify(atApproval.gate)} ${atApproval.outcome}`,
      );
      assert.equal(atApproval.annotation?.decidedBy, 'reviewers');
      assert.ok(
        atApproval.optimization!.bestScore > atApproval.optimization!.baselineScore,
        'the optimizer found a better prompt on train',
      );

      const traffic = startDemoTraffic(
        api.url,
        (
          await createAgentToken(stack.db, {
            agent: stack.scenario.agentId,
            scopes: ['ingest', 'resolve'],
            createdBy: 'test',
          })
        ).token,
        stack.scenario,
        stack.llm.agent,
      );
      try {
        // Over HTTP, as an approver does: the API signs the decision for whoever the token is.
        const alice = await personWithToken(stack.db, 'alice', 'approver');
        const refused = await fetch(`${api.url}/api/cycles/${cycleId}/approve`, {
          method: 'POST',
          headers: { ...alice.headers, 'content-type': 'application/json' },
          body: JSON.stringify({ approver: 'someone-else' }),
        });
        assert.equal(refused.status, 400, 'a body naming the approver is refused');
        const res = await fetch(`${api.url}/api/cycles/${cycleId}/approve`, {
          method: 'POST',
          headers: { ...alice.headers, 'content-type': 'application/json' },
          body: JSON.stringify({ comment: 'ship it' }),
        });
        assert.equal(res.status, 200, await res.clone().text());
        const approved = await res.json();
        assert.deepEqual(approved, { decision: 'approved', decidedBy: 'alice', approvals: 1, required: 1 });
        await assert.rejects(
          approveCycle(client, cycleId, {}, asPerson('bob')),
          UserError,
          'a second answer is rejected',
        );
        const result = (await handle.result()) as {
          outcome: string;
          status: { stages: { stage: string }[] };
        };
        assert.equal(result.outcome, 'released');
        assert.deepEqual(
          result.status.stages.map((s) => s.stage),
          CycleStage.options,
        );
      } finally {
        await traffic.stop();
      }
      assert.ok(traffic.sent() > 0);

      // Search attributes tell the story in the UI without opening payloads.
      const description = await handle.describe();
      assert.equal(description.typedSearchAttributes.get(FlywheelAgent), 'demo');
      assert.equal(description.typedSearchAttributes.get(FlywheelStage), 'done');
      assert.equal(description.typedSearchAttributes.get(FlywheelOutcome), 'released');
      let listed: Awaited<ReturnType<typeof listCycles>> = [];
      for (let i = 0; i < 40 && !listed.some((c) => c.cycleId === cycleId); i++) {
        listed = await listCycles(client, 'demo');
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(
        listed.some((c) => c.cycleId === cycleId),
        'the cycle is found by its agent search attribute',
      );

      // DB rows and their lineage: trace → cluster → annotation → example → candidate → gate → decision → rollout.
      const db = stack.db;
      const production = await labelledVersion(db, 'demo', 'production');
      assert.equal(production?.version, 2, 'production moved to the released version');
      const gate = await db
        .selectFrom('gate_reports')
        .selectAll()
        .where('cycle_id', '=', cycleId)
        .executeTakeFirstOrThrow();
      assert.equal(gate.passed, true);
      assert.equal(gate.candidate_version_id, production.id);
      const candidate = await db
        .selectFrom('candidates')
        .selectAll()
        .where('id', '=', gate.candidate_id)
        .executeTakeFirstOrThrow();
      assert.equal(candidate.prompt_text, production.text);
      const run = await db
        .selectFrom('optimization_runs')
        .selectAll()
        .where('id', '=', candidate.run_id)
        .executeTakeFirstOrThrow();
      assert.equal(run.cycle_id, cycleId);
      const decision = await db
        .selectFrom('release_decisions')
        .selectAll()
        .where('gate_report_id', '=', gate.id)
        .executeTakeFirstOrThrow();
      assert.equal(decision.decision, 'approved');
      assert.equal(decision.decided_by, 'user:alice');
      const rollout = await db
        .selectFrom('rollouts')
        .selectAll()
        .where('release_decision_id', '=', decision.id)
        .executeTakeFirstOrThrow();
      assert.equal(rollout.status, 'completed');
      const steps = await db
        .selectFrom('rollout_steps')
        .selectAll()
        .where('rollout_id', '=', rollout.id)
        .execute();
      assert.ok(steps.some((s) => s.verdict === 'successful'));
      const annotated = await db
        .selectFrom('dataset_examples')
        .innerJoin('annotations', 'annotations.id', 'dataset_examples.annotation_id')
        .innerJoin('annotation_items', 'annotation_items.id', 'annotations.item_id')
        // Calibration items (traces the judge passed) have no cluster.
        .leftJoin('cluster_members', (j) =>
          j
            .onRef('cluster_members.cluster_id', '=', 'annotation_items.cluster_id')
            .onRef('cluster_members.trace_id', '=', 'dataset_examples.trace_id'),
        )
        .innerJoin('samples', (j) =>
          j.onRef('samples.trace_id', '=', 'dataset_examples.trace_id').on('samples.cycle_id', '=', cycleId),
        )
        .select([
          'dataset_examples.id',
          'dataset_examples.split',
          'annotation_items.cluster_id',
          'cluster_members.trace_id as member',
        ])
        .where('annotation_items.cycle_id', '=', cycleId)
        .execute();
      assert.equal(
        annotated.length,
        labels.length,
        'every labelled trace became a dataset example traceable to its sample and annotation',
      );
      assert.ok(
        annotated.every((e) => e.cluster_id === null || e.member !== null),
        'and a clustered one to its cluster',
      );
      assert.ok(
        annotated.some((e) => e.cluster_id === null),
        'the calibration share was labelled too',
      );
      const scoredByCandidate = await db
        .selectFrom('candidate_scores')
        .select('example_id')
        .where('candidate_id', '=', candidate.id)
        .execute();
      assert.ok(scoredByCandidate.length > 0);
      const humanScores = await db
        .selectFrom('scores')
        .select('id')
        .where('cycle_id', '=', cycleId)
        .where('source', '=', 'human')
        .execute();
      assert.equal(humanScores.length, labels.length);
      const audit = await db.selectFrom('audit_log').select(['action', 'actor']).execute();
      // The audit log names the verified principal the signed decision carried.
      assert.ok(audit.some((a) => a.action === 'release_approved' && a.actor === 'user:alice'));
      assert.ok(
        audit.some((a) => a.action === 'approve_release' && a.actor === 'user:alice'),
        'each approver is audited',
      );

      // The optimizer continued-as-new (max 40 events) and still finished with one run.
      const optimizeRuns = client.workflow.list({ query: `WorkflowId = '${cycleId}-optimize'` });
      let runs = 0;
      for await (const _ of optimizeRuns) runs++;
      assert.ok(runs >= 2, `the optimizer continued as new (${runs} runs)`);
    });
  });

  it('reports the released cycle in the flywheel KPIs, over HTTP as the stored rows say', async () => {
    const db = stack.db;
    const { headers } = await personWithToken(db, 'kpi-reader', 'viewer');
    const res = await fetch(`${api.url}/api/agents/demo/kpis`, { headers });
    assert.equal(res.status, 200);
    const kpis = (await res.json()) as AgentKpis;
    assert.equal(kpis.cycles, 1);
    assert.equal(kpis.releases, 1);
    assert.equal(kpis.rollbacks, 0);
    assert.equal(kpis.canarySuccessRate, 1, 'the one finished rollout was promoted');
    const [cycle] = kpis.perCycle;
    assert.ok(cycle);
    assert.equal(cycle.outcome, 'released');
    assert.equal(cycle.rollout, 'completed');

    const gate = await db
      .selectFrom('gate_reports')
      .select('report')
      .where('cycle_id', '=', cycle.cycleId)
      .executeTakeFirstOrThrow();
    const composite = (gate.report as { composite: { delta: number; ci: [number, number] } }).composite;
    assert.equal(cycle.lift.gateDelta, composite.delta, 'lift is the gate composite delta');
    assert.deepEqual(cycle.lift.gateCi, composite.ci);
    assert.ok(cycle.lift.onlineDelta !== null, 'the rollout analysis measured an online delta');

    const sampled = await db
      .selectFrom('samples')
      .innerJoin('traces', 'traces.id', 'samples.trace_id')
      .select('traces.started_at')
      .where('samples.cycle_id', '=', cycle.cycleId)
      .orderBy('traces.started_at')
      .executeTakeFirstOrThrow();
    const rollout = await db
      .selectFrom('rollouts')
      .select('ended_at')
      .where('cycle_id', '=', cycle.cycleId)
      .executeTakeFirstOrThrow();
    const loopHours =
      (new Date(rollout.ended_at!).getTime() - new Date(sampled.started_at).getTime()) / 3_600_000;
    assert.ok(Math.abs(cycle.loopHours! - loopHours) < 0.01, `loop ${cycle.loopHours} h vs ${loopHours} h`);
    assert.ok(cycle.loopHours! > 0);

    const items = await db
      .selectFrom('annotation_items')
      .select('status')
      .where('cycle_id', '=', cycle.cycleId)
      .execute();
    const complete = items.filter((i) => i.status === 'complete').length;
    assert.ok(items.length > 0 && complete > 0);
    assert.equal(cycle.annotation?.items, items.length);
    assert.equal(cycle.annotation?.drained, Math.round((complete / items.length) * 1e4) / 1e4);
    assert.ok(cycle.annotation?.hoursToQuorum !== null, 'the quorum was reached and timed');

    const run = await db
      .selectFrom('optimization_runs')
      .select(['tokens', 'teacher_calls'])
      .where('cycle_id', '=', cycle.cycleId)
      .executeTakeFirstOrThrow();
    assert.equal(cycle.cost.optimizerTokens, Number(run.tokens));
    assert.equal(cycle.cost.teacherCalls, run.teacher_calls);

    const unknown = await fetch(`${api.url}/api/agents/nobody/kpis`, { headers });
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: string }).error, /Unknown agent "nobody"/);
    const bad = await fetch(`${api.url}/api/agents/demo/kpis?cycles=all`, { headers });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /cycles must be a whole number/);
    assert.deepEqual(await kpisOfAgent(db, 'demo'), kpis, 'the CLI and the API read the same figures');
  });
});
