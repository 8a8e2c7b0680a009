/**
 * What the optimizer's teacher reads about an example: the reviewer's comment, else the
 * judge's failing explanations, from this cycle's judging or, for an example carried from an
 * earlier cycle, from the cycle that judged it. (Before, a carried example had no critique
 * at all, and a passed dimension could hide a failed one: the teacher of the demo's second
 * cycle saw a note on 11 of its 122 failing train examples and found no fix.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Db } from '../../db/connection.js';
import {
  ensureDataset,
  writeVersion,
  type DraftExample,
} from '../../datasets/store/dataset-version-writer.js';
import { PgSearchStore } from '../../optimization/store/pg-search-store.js';
import { ensureAgent, inTransaction } from '../../registry/store/agent-repository.js';
import { DatasetPolicy } from '../../schemas/dataset-policy.js';
import { TraceRecord } from '../../schemas/trace.js';
import { TraceWriter } from '../../traces/store/trace-writer.js';
import { startTestDatabase } from '../helpers/test-stack.js';

describe('the critique the optimizer reads', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let db: Db;
  const now = Date.now();

  const cycle = (id: string) =>
    db
      .insertInto('cycles')
      .values({
        id,
        agent_id: 'critique',
        run_id: 'r',
        stage: 'optimizing',
        outcome: 'running',
        window_start: new Date(now - 86_400_000),
        window_end: new Date(now),
        input: '{}',
      })
      .execute();
  const judged = (cycleId: string, traceId: string, dimension: string, value: number, explanation: string) =>
    db
      .insertInto('scores')
      .values({
        cycle_id: cycleId,
        trace_id: traceId,
        dimension,
        value,
        label: value >= 1 ? 'pass' : 'fail',
        category: null,
        explanation,
        source: 'judge',
        evaluator: `judge:${dimension}`,
      })
      .execute();

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    await ensureAgent(db, 'critique');
    for (const id of ['cycle-old', 'cycle-new']) await cycle(id);
    const traces = ['t-carried', 't-fresh', 't-passed'].map((id, i) =>
      TraceRecord.parse({
        id,
        agent: 'critique',
        timestamp: new Date(now - 3_600_000 + i).toISOString(),
        input: { messages: [{ role: 'user', content: `question ${id}` }] },
        output: { action: 'respond', content: 'ok' },
      }),
    );
    await new TraceWriter(db).write(traces);
    // The earlier cycle judged the carried trace: one dimension failed, one passed.
    await judged('cycle-old', 't-carried', 'task_completion', 0, 'The agent booked without confirmation.');
    await judged('cycle-old', 't-carried', 'tool_selection', 1, 'The agent chose book_reservation.');
    // This cycle judged the fresh trace (two failures) and re-judged the passed one.
    await judged('cycle-new', 't-fresh', 'task_completion', 0, 'Not eligible for cancellation.');
    await judged('cycle-new', 't-fresh', 'argument_extraction', 0, 'The reservation id is missing.');
    await judged('cycle-new', 't-fresh', 'tool_selection', 1, 'Right tool.');
    await judged('cycle-old', 't-passed', 'task_completion', 0, 'An old failure, since fixed.');
    await judged('cycle-new', 't-passed', 'task_completion', 1, 'Done.');
    await inTransaction(db, async (tx) => {
      const dataset = await ensureDataset(tx, { agent: 'critique' });
      const example = (traceId: string, cycleId: string): DraftExample => ({
        key: traceId,
        traceId,
        clusterId: null,
        clusterStableId: null,
        annotationId: null,
        cycleId,
        input: { messages: [{ role: 'user', content: `question ${traceId}` }] },
        expected: { action: 'respond', arguments: {} },
        slices: [],
        source: 'cycle',
        createdBy: 'test',
        createdAt: null,
        originVersionId: null,
        gatingExcluded: null,
        requestedSplit: 'train',
      });
      await writeVersion(tx, {
        dataset,
        parentVersionId: null,
        cycleId: 'cycle-new',
        createdBy: 'test',
        note: 'critique test',
        examples: [
          example('t-carried', 'cycle-old'),
          example('t-fresh', 'cycle-new'),
          example('t-passed', 'cycle-old'),
        ],
        retirements: [],
        policy: DatasetPolicy.parse({}),
      });
    });
  });
  after(() => database?.teardown());

  it("reads this cycle's failing explanations, else the last judging cycle's, never a passed dimension", async () => {
    const rows = await db.selectFrom('dataset_examples').select(['id', 'trace_id']).execute();
    const idOf = new Map(rows.map((r) => [r.trace_id, r.id]));
    const store = new PgSearchStore(db, 'run-1', 'cycle-new', []);
    const examples = await store.examples(rows.map((r) => r.id));
    const critique = (trace: string) => examples.get(idOf.get(trace)!)?.critique ?? null;
    assert.equal(critique('t-carried'), 'The agent booked without confirmation.');
    assert.equal(critique('t-fresh'), 'The reservation id is missing. Not eligible for cancellation.');
    assert.equal(critique('t-passed'), null, "this cycle's judge passed it; the old failure is stale");
  });
});
