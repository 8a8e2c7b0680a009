import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import proto from '@temporalio/proto';
import type { CycleStatus } from '../../schemas/cycle-status.js';
import type { CycleStage } from '../../schemas/cycle-input.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { truthfulLabels, type QueuedItem } from '../helpers/truthful-labels.js';
import {
  startMultiProcessStack,
  type ApiProcess,
  type FlywheelProcess,
  type MultiProcessStack,
} from '../helpers/multi-process-stack.js';
import { seedSharedWeek } from '../helpers/seeded-week.js';

const { PendingActivityState } = proto.temporal.api.enums.v1;

/**
 * Two `flywheel worker` and two `flywheel api` processes on one Temporal server and one
 * PostgreSQL, as a deployment runs replicas. One of each is killed with SIGKILL in the middle
 * of a cycle; the survivors carry the cycle to its release with no duplicated rows.
 */
describe('replicas: two workers and two APIs, one of each killed mid-cycle', () => {
  let stack: MultiProcessStack;
  let workers: FlywheelProcess[];
  let apis: ApiProcess[];

  before(async () => {
    stack = await startMultiProcessStack({ prefix: 'flywheel-scale-out' });
    await seedSharedWeek(stack, { traces: 240, seed: 5 });
    [workers, apis] = await Promise.all([
      Promise.all([stack.startWorker('w1'), stack.startWorker('w2')]),
      Promise.all([stack.startApi('a1'), stack.startApi('a2')]),
    ]);
  });
  after(() => stack?.teardown());

  it('the surviving worker and API carry a cycle from start to release', async () => {
    const [operator, reviewer, approver] = await Promise.all([
      personWithToken(stack.db, 'olga', 'operator'),
      personWithToken(stack.db, 'rita', 'reviewer'),
      personWithToken(stack.db, 'alice', 'approver'),
    ]);
    const call = async (api: ApiProcess, method: string, path: string, headers: object, body?: unknown) => {
      const res = await fetch(`${api.url}${path}`, {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      assert.ok(res.ok, `${method} ${path} on ${api.name}: ${res.status} ${text}`);
      return JSON.parse(text) as unknown;
    };
    const [apiA, apiB] = apis as [ApiProcess, ApiProcess];
    // Status polls alternate between the replicas while both are up, as a load balancer would.
    let polls = 0;
    const live = () => apis.filter((a) => a.child.exitCode === null && a.child.signalCode === null);
    const waitForStage = async (id: string, stages: CycleStage[], seconds: number): Promise<CycleStatus> => {
      const deadline = Date.now() + seconds * 1000;
      let last: CycleStatus | undefined;
      while (Date.now() < deadline) {
        const replicas = live();
        const api = replicas[polls++ % replicas.length]!;
        last = (await call(api, 'GET', `/api/cycles/${id}`, operator.headers)) as CycleStatus;
        if (stages.includes(last.stage)) return last;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.fail(`cycle ${id} not at ${stages.join('|')} within ${seconds} s; last ${JSON.stringify(last)}`);
    };

    const cycleId = `cycle-demo-scale-out-${Date.now()}`;
    await call(apiA, 'POST', '/api/cycles', operator.headers, {
      id: cycleId,
      // The full-cycle test's settings (its gate passes on this seeded week), with a rollout
      // of weights only: the subject here is which process runs the work, not the analysis.
      input: {
        agent: 'demo',
        seed: 3,
        sampleRate: 0.4,
        maxAnnotationItems: 30,
        annotationDeadlineSeconds: 300,
        approvalDeadlineSeconds: 300,
        optimizer: { budget: { maxRollouts: 600, maxTeacherCalls: 60 }, maxHistoryEvents: 40 },
        rollout: { steps: [{ setWeight: 50 }, { setWeight: 100 }] },
      },
    });

    const atAnnotation = await waitForStage(cycleId, ['awaiting_annotation', 'done'], 120);
    assert.equal(atAnnotation.stage, 'awaiting_annotation', `cycle ended early: ${atAnnotation.outcome}`);

    // API replica A dies; the reviewer's client carries on against B.
    apiA.child.kill('SIGKILL');
    assert.equal((await apiA.exited).signal, 'SIGKILL');
    await assert.rejects(fetch(`${apiA.url}/health/live`), 'the killed replica answers nothing');
    const { items } = (await call(apiB, 'GET', `/api/cycles/${cycleId}/annotations`, reviewer.headers)) as {
      items: QueuedItem[];
    };
    assert.ok(items.length > 0);
    const labels = truthfulLabels(stack.scenario, items, 'reviewed through the surviving API');
    await call(apiB, 'POST', `/api/cycles/${cycleId}/annotations`, reviewer.headers, { labels });

    // Kill the worker that is running one of the optimizer's evaluations at that moment, so
    // the kill interrupts work in flight rather than an idle poller.
    await waitForStage(cycleId, ['optimizing'], 120);
    // The next agent calls answer 4 s late (same answers): an evaluation seen running is then
    // still waiting on its model calls when the kill lands, not finishing in the same instant
    // from the cache (which once left nothing to retry and failed this test).
    stack.simulator.addFaults([
      { role: 'agent', kind: 'slow', rate: 1, burst: 1, delayMs: 4000, retryAfterSeconds: 1, times: 24 },
    ]);
    // Only an evaluation started after that is sure to wait on the late answers: one started
    // before could finish from answers already in hand as the kill lands (a clean-clone run
    // saw attempt 1 complete on the killed worker, leaving nothing to retry).
    const slowFrom = Date.now();
    const startedMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
      t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0;
    const optimizeId = `${cycleId}-optimize`;
    let victim: FlywheelProcess | undefined;
    let interrupted: { runId: string; activityId: string } | undefined;
    for (let i = 0; i < 600 && !victim; i++) {
      const described = await stack.client.workflow
        .getHandle(optimizeId)
        .describe()
        .catch(() => undefined);
      const running = described?.raw.pendingActivities?.find(
        (a) =>
          a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED &&
          a.activityType?.name === 'evaluateSearchBatch' &&
          startedMs(a.lastStartedTime) > slowFrom &&
          workers.some((w) => w.identity === a.lastWorkerIdentity),
      );
      if (described && running) {
        victim = workers.find((w) => w.identity === running.lastWorkerIdentity);
        victim!.child.kill('SIGKILL');
        interrupted = { runId: described.runId, activityId: running.activityId ?? '' };
      } else await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(victim && interrupted, 'an optimizer evaluation was seen running on a worker');
    assert.equal((await victim.exited).signal, 'SIGKILL');
    const survivor = workers.find((w) => w !== victim)!;

    // The rest of the cycle (the interrupted evaluation's retry after its heartbeat timeout,
    // the gate, the rollout) runs on the survivor; the approver uses API B.
    const atApproval = await waitForStage(cycleId, ['awaiting_approval', 'done'], 240);
    assert.equal(
      atApproval.stage,
      'awaiting_approval',
      `gate did not pass: ${JSON.stringify(atApproval.gate)} ${atApproval.outcome}`,
    );
    const approved = await call(apiB, 'POST', `/api/cycles/${cycleId}/approve`, approver.headers, {
      comment: 'approved through the surviving API',
    });
    assert.deepEqual(approved, { decision: 'approved', decidedBy: 'alice', approvals: 1, required: 1 });
    const result = (await stack.client.workflow.getHandle(cycleId).result()) as { outcome: string };
    assert.equal(result.outcome, 'released');
    assert.equal((await waitForStage(cycleId, ['done'], 10)).outcome, 'released', 'API B reports it');

    // The evaluation the kill interrupted was retried and finished by the survivor: Temporal
    // writes a retried activity's started event when it closes, with the last attempt's worker.
    const events =
      (await stack.client.workflow.getHandle(optimizeId, interrupted.runId).fetchHistory()).events ?? [];
    const scheduled = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityId === interrupted.activityId,
    );
    const started = events.find(
      (e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === Number(scheduled?.eventId),
    )?.activityTaskStartedEventAttributes;
    assert.ok(started, 'the interrupted evaluation closed');
    assert.ok((started.attempt ?? 0) >= 2, `it was retried (attempt ${started.attempt})`);
    assert.equal(started.identity, survivor.identity, 'by the surviving worker');
    assert.ok(
      events.some(
        (e) =>
          Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(scheduled?.eventId),
      ),
      'and completed',
    );

    // No process ran anything twice into the database: every key of the cycle's rows is unique.
    const duplicates = async (table: string, keys: string[], where = sql`cycle_id = ${cycleId}`) =>
      Number(
        (
          await sql<{ n: number }>`select count(*)::int as n from (select 1 from ${sql.table(table)}
            where ${where} group by ${sql.join(keys.map((k) => sql.ref(k)))} having count(*) > 1) d`.execute(
            stack.db,
          )
        ).rows[0]?.n,
      );
    const ofRun = sql`candidate_id in (select c.id from candidates c join optimization_runs r on r.id = c.run_id
      where r.cycle_id = ${cycleId})`;
    const keyed: [string, string[], ReturnType<typeof sql>?][] = [
      ['samples', ['trace_id']],
      ['scores', ['trace_id', 'dimension', 'source']],
      ['scores', ['trace_id', 'evaluator']],
      ['annotation_items', ['trace_id']],
      ['candidate_scores', ['candidate_id', 'example_id'], ofRun],
      ['optimization_runs', ['cycle_id']],
      ['dataset_versions', ['cycle_id']],
      ['gate_reports', ['cycle_id']],
      ['release_decisions', ['cycle_id']],
      ['approvals', ['cycle_id', 'approver']],
      ['rollouts', ['cycle_id']],
    ];
    for (const [table, keys, where] of keyed)
      assert.equal(await duplicates(table, keys, where), 0, `${table} unique by ${keys.join(', ')}`);
    const count = async (table: string) =>
      Number(
        (
          await sql<{
            n: number;
          }>`select count(*)::int as n from ${sql.table(table)} where cycle_id = ${cycleId}`.execute(stack.db)
        ).rows[0]?.n,
      );
    assert.equal(await count('gate_reports'), 1);
    assert.equal(await count('rollouts'), 1);
    const human = await stack.db
      .selectFrom('scores')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('cycle_id', '=', cycleId)
      .where('source', '=', 'human')
      .executeTakeFirstOrThrow();
    assert.equal(Number(human.n), labels.length, 'one human score per label');
    const versions = await stack.db
      .selectFrom('prompt_versions')
      .select('version')
      .where('agent_id', '=', 'demo')
      .execute();
    assert.deepEqual(
      versions.map((v) => v.version).sort(),
      [1, 2],
      'one released version, not one per attempt',
    );
    const rolloutSteps = await sql<{
      n: number;
    }>`select count(*)::int as n from (select 1 from rollout_steps s
      join rollouts r on r.id = s.rollout_id where r.cycle_id = ${cycleId}
      group by s.rollout_id, s.step_index, s.round having count(*) > 1) d`.execute(stack.db);
    assert.equal(rolloutSteps.rows[0]?.n, 0, 'rollout steps unique');

    // The survivors are still up; the killed ones stayed down (nothing restarted them behind the test's back).
    assert.equal(survivor.child.exitCode, null, survivor.output());
    assert.equal(apiB.child.exitCode, null, apiB.output());
  });
});
