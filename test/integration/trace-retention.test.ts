import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Db } from '../../db/connection.js';
import { createLlmRoles } from '../../llm/llm-roles.js';
import { ensureAgent } from '../../registry/store/agent-repository.js';
import { TraceRecord } from '../../schemas/trace.js';
import { sql } from 'kysely';
import { dropTracePartition, listTracePartitions } from '../../traces/store/trace-partitions.js';
import { TraceWriter } from '../../traces/store/trace-writer.js';
import { ensureRetentionSchedule, RETENTION_CRON } from '../../traces/retention-schedule-service.js';
import { applyTraceRetention, type RetentionReport } from '../../traces/trace-retention-service.js';
import { TRACE_RETENTION_SCHEDULE_ID } from '../../workflows/workflow-ids.js';
import { createFlywheelWorker } from '../../workers/flywheel-worker.js';
import { loadTaxonomy } from '../../workers/load-taxonomy.js';
import { startTemporalServer } from '../helpers/local-infrastructure.js';
import { testDataConverter } from '../helpers/test-payload-encryption.js';
import { TEST_DECISION_KEYS } from '../helpers/test-decision-keys.js';
import { startTestDatabase } from '../helpers/test-stack.js';

const DAY = 86_400_000;
/** Noon today, so "N days ago" lands in the middle of a UTC day, away from every cutoff. */
const NOW = new Date(Math.floor(Date.now() / DAY) * DAY + DAY / 2);
const AGES = [2, 10, 20, 40];
const dayOf = (age: number) => new Date(NOW.getTime() - age * DAY).toISOString().slice(0, 10);

function tracesOf(agent: string): TraceRecord[] {
  return AGES.map((age) =>
    TraceRecord.parse({
      id: `${agent}-${age}d`,
      agent,
      timestamp: new Date(NOW.getTime() - age * DAY).toISOString(),
      input: { messages: [{ role: 'user', content: `asked ${age} days ago` }] },
      output: { action: 'respond', content: 'ok' },
    }),
  );
}

describe('trace retention per agent, on a schedule', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let db: Db;
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;

  const idsOf = async (agent: string) =>
    (await db.selectFrom('traces').select('id').where('agent_id', '=', agent).orderBy('id').execute()).map(
      (r) => r.id,
    );
  const partitionDays = async () => (await listTracePartitions(db)).map((p) => p.day);
  const seed = async () => {
    const writer = new TraceWriter(db);
    await writer.write([...tracesOf('short'), ...tracesOf('long'), ...tracesOf('broken')]);
  };

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    await ensureAgent(db, 'short', { retentionDays: 7 });
    await ensureAgent(db, 'long', { retentionDays: 30 });
    await ensureAgent(db, 'broken');
    // A configuration that stopped validating keeps its own retention number.
    await db
      .updateTable('agents')
      .set({ config: JSON.stringify({ retentionDays: 15, sampling: 'not an object' }) })
      .where('id', '=', 'broken')
      .execute();
    await seed();
  });
  after(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await env?.teardown();
    await database?.teardown();
  });

  it('a dry run reports what each agent would lose and removes nothing', async () => {
    const report = await applyTraceRetention(db, { now: NOW, dryRun: true });
    const byAgent = new Map(report.agents.map((a) => [a.agent, a]));
    assert.equal(byAgent.get('short')?.deletedTraces, 2, 'its 10- and 20-day-old traces');
    assert.equal(byAgent.get('broken')?.retentionDays, 15);
    assert.equal(byAgent.get('broken')?.deletedTraces, 1, 'its 20-day-old trace');
    assert.equal(byAgent.get('long')?.deletedTraces, 0);
    assert.deepEqual(report.droppedPartitions, [
      { name: `traces_${dayOf(40).replace(/-/g, '')}`, traces: 3 },
    ]);
    assert.equal((await idsOf('short')).length, 4);
    assert.ok((await partitionDays()).includes(dayOf(40)));
  });

  it("deletes each agent's own expired traces and drops only the partition every agent's retention passed", async () => {
    const report = await applyTraceRetention(db, { now: NOW });
    assert.deepEqual(await idsOf('short'), ['short-2d']);
    assert.deepEqual(await idsOf('broken'), ['broken-10d', 'broken-2d']);
    assert.deepEqual(await idsOf('long'), ['long-10d', 'long-20d', 'long-2d']);
    const days = await partitionDays();
    assert.ok(!days.includes(dayOf(40)), 'the 40-day-old partition is gone');
    assert.ok(days.includes(dayOf(20)) && days.includes(dayOf(10)), 'partitions long still keeps stay');
    assert.deepEqual(
      report.agents.map((a) => [a.agent, a.deletedTraces]),
      [
        ['broken', 1],
        ['long', 0],
        ['short', 2],
      ],
    );
    const again = await applyTraceRetention(db, { now: NOW });
    assert.ok(again.agents.every((a) => a.deletedTraces === 0) && again.droppedPartitions.length === 0);
  });

  it('leaves a partition for the next run rather than stall ingest behind a long query on traces', async () => {
    await new TraceWriter(db).write([TraceRecord.parse({ ...tracesOf('long')[3]!, id: 'long-40d-again' })]);
    const partition = (await listTracePartitions(db)).find((p) => p.day === dayOf(40))!;
    const outcome = await db.connection().execute(async (reader) => {
      // A sample reading traces holds a lock the drop has to wait for.
      await sql`begin`.execute(reader);
      await sql`select count(*) from traces`.execute(reader);
      try {
        const started = Date.now();
        const result = await dropTracePartition(db, partition, undefined, 1);
        assert.ok(Date.now() - started < 10_000, 'gave up within the lock timeout');
        return result;
      } finally {
        await sql`rollback`.execute(reader);
      }
    });
    assert.equal(outcome, 'busy');
    assert.ok((await partitionDays()).includes(dayOf(40)), 'still there');
    assert.equal(await dropTracePartition(db, partition), 'dropped', 'once the query is over');
    assert.equal(await dropTracePartition(db, partition), 'gone');
  });

  it('refuses a retention override below one day and removes nothing', async () => {
    await assert.rejects(applyTraceRetention(db, { now: NOW, days: 0 }), /whole number of days ≥ 1/);
    assert.deepEqual(await idsOf('short'), ['short-2d']);
  });

  it('runs daily from a Temporal Schedule that workers create once, and a triggered run applies it', async () => {
    await seed();
    env = await startTemporalServer();
    const taskQueue = `test-${randomUUID()}`;
    const endpoint = { baseUrl: 'http://127.0.0.1:9', model: 'unused', apiKey: 'unused' };
    worker = await createFlywheelWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      deps: {
        db,
        llm: createLlmRoles({ agent: endpoint, judge: endpoint, teacher: endpoint, embedder: endpoint }, db),
        llmConcurrency: 1,
        taxonomy: loadTaxonomy(),
      },
      dataConverter: testDataConverter(),
      decisionKeys: TEST_DECISION_KEYS,
    });
    running = worker.run();

    assert.deepEqual(await ensureRetentionSchedule(env.client, taskQueue), { created: true });
    assert.deepEqual(await ensureRetentionSchedule(env.client, taskQueue), { created: false });
    const schedule = env.client.schedule.getHandle(TRACE_RETENTION_SCHEDULE_ID);
    const described = await schedule.describe();
    assert.equal(described.state.paused, false);
    assert.ok(described.info.nextActionTimes.length > 0, `next run planned (${RETENTION_CRON})`);

    await schedule.trigger();
    let workflowId: string | undefined;
    for (let i = 0; i < 100 && !workflowId; i++) {
      workflowId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
      if (!workflowId) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(workflowId, 'the trigger started a run');
    const report = (await env.client.workflow.getHandle(workflowId).result()) as RetentionReport;
    assert.equal(report.dryRun, false);
    // The re-seeded traces of 40 days ago land in a re-created partition: dropped again.
    assert.equal(report.droppedPartitions.length, 1);
    assert.deepEqual(await idsOf('short'), ['short-2d']);
    assert.deepEqual(await idsOf('long'), ['long-10d', 'long-20d', 'long-2d']);
  });
});
