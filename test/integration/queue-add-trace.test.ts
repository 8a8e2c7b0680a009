import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import { annotationQueueId } from '../../annotation/annotation-ids.js';
import type { AddedTrace, AddedTraces } from '../../annotation/queue-trace-service.js';
import type { queueItems } from '../../annotation/store/annotation-reads.js';
import type { Db } from '../../db/connection.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { startTestDatabase } from '../helpers/test-stack.js';

type QueueItem = Awaited<ReturnType<typeof queueItems>>[number];

describe('adding a trace to an annotation queue: POST /api/queues/:id/items on real PostgreSQL', () => {
  let database: { db: Db; url: string; teardown(): Promise<void> };
  let db: Db;
  let api: ApiServer;
  const headers: Record<string, Record<string, string>> = {};

  const base = Math.floor((Date.now() - 2 * 86_400_000) / 3_600_000) * 3_600_000;
  const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
  const line = (id: string, minute: number, user: string) =>
    JSON.stringify({
      id,
      timestamp: at(minute),
      input: {
        messages: [
          { role: 'system', content: 'You are an airline agent.' },
          { role: 'user', content: user },
        ],
      },
      output: { action: 'respond', content: `answer of ${id}` },
    });

  const call = async (who: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers[who] },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return {
      status: res.status,
      body: (await res.json()) as AddedTrace & { error: string; items: QueueItem[] },
    };
  };
  const add = (who: string, queue: string, body: unknown) =>
    call(who, 'POST', `/api/queues/${queue}/items`, body);
  const itemCount = async () =>
    Number(
      (
        await db
          .selectFrom('annotation_items')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  /** A cycle at `stage` with its queue in `status`. */
  const cycleWithQueue = async (
    id: string,
    agent: string,
    stage: string,
    status: 'open' | 'complete' | 'closed',
  ) => {
    await db
      .insertInto('cycles')
      .values({
        id,
        agent_id: agent,
        run_id: `${id}-run`,
        stage,
        outcome: stage === 'done' ? 'released' : 'running',
        window_start: at(-60),
        window_end: at(120),
        input: '{}',
      })
      .execute();
    await db
      .insertInto('annotation_queues')
      .values({
        id: annotationQueueId(id),
        agent_id: agent,
        cycle_id: id,
        name: `${agent} review ${id}`,
        reviewers_per_item: 1,
        quorum: 1,
        claim_seconds: 600,
        status,
      })
      .execute();
  };

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    await db
      .insertInto('agents')
      .values([
        { id: 'airline', config: '{}' },
        { id: 'retail', config: '{}' },
      ])
      .execute();
    api = await startApiServer(apiDeps(db, new Client()), 0);
    const airline = (await createAgentToken(db, { agent: 'airline', scopes: ['ingest'], createdBy: 'test' }))
      .token;
    const retail = (await createAgentToken(db, { agent: 'retail', scopes: ['ingest'], createdBy: 'test' }))
      .token;
    for (const [token, body] of [
      [
        airline,
        [
          line('t-new', 0, 'Cancel my booking and mail jane.doe@example.com'),
          line('t-scored', 5, 'Change my seat'),
          line('t-twice', 10, 'Upgrade me'),
          line('t-b1', 15, 'Add a bag'),
          line('t-b2', 20, 'Add a meal'),
          line('t-b3', 25, 'Add a seat'),
        ].join('\n'),
      ],
      [retail, line('r-1', 0, 'Where is my parcel?')],
    ] as const) {
      const res = await fetch(`${api.url}/api/traces`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      assert.equal(res.status, 200, await res.text());
    }
    headers.rita = (await personWithToken(db, 'rita', 'reviewer', 'airline')).headers;
    headers.rex = (await personWithToken(db, 'rex', 'reviewer', 'retail')).headers;
    headers.vera = (await personWithToken(db, 'vera', 'viewer')).headers;

    await cycleWithQueue('c-open', 'airline', 'awaiting_annotation', 'open');
    await cycleWithQueue('c-done', 'airline', 'done', 'closed');
    await cycleWithQueue('c-full', 'airline', 'awaiting_annotation', 'complete');
    // The open cycle sampled, scored and clustered t-scored, but did not queue it.
    await db
      .insertInto('samples')
      .values({
        cycle_id: 'c-open',
        trace_id: 't-scored',
        reason: 'random',
        reasons: ['random'],
        redacted: JSON.stringify({
          input: { messages: [{ role: 'user', content: 'Change my seat' }] },
          output: { action: 'respond', content: 'answer of t-scored' },
        }),
      })
      .execute();
    await db
      .insertInto('scores')
      .values({
        cycle_id: 'c-open',
        trace_id: 't-scored',
        evaluator: 'judge:task_completion',
        dimension: 'task_completion',
        value: 0,
        label: 'fail',
        category: 'tool_selection',
        explanation: 'answered without changing the seat',
        source: 'judge',
      })
      .execute();
    await db
      .insertInto('clusters')
      .values({
        id: 'c-open:airline-fc001',
        cycle_id: 'c-open',
        agent_id: 'airline',
        stable_id: 'airline-fc001',
        name: 'Seat changes not made',
        category: 'tool_selection',
        size: 1,
      })
      .execute();
    await db
      .insertInto('cluster_members')
      .values({ cluster_id: 'c-open:airline-fc001', trace_id: 't-scored' })
      .execute();
  });

  after(async () => {
    await api?.close();
    await database?.teardown();
  });

  it('a reviewer adds a trace the cycle never sampled: the item carries its redacted copy and no judge verdict, and the audit log names the reviewer from the credentials', async () => {
    const added = await add('rita', annotationQueueId('c-open'), { traceId: 't-new' });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.deepEqual(added.body, {
      itemId: 'c-open:item:t-new',
      queueId: annotationQueueId('c-open'),
      cycleId: 'c-open',
      traceId: 't-new',
      addedBy: 'rita',
      clusterId: null,
      judgeLabel: 'not_scored',
      requiredReviews: 1,
    });
    const items = await call('rita', 'GET', `/api/queues/${annotationQueueId('c-open')}/items?reviewer=rita`);
    assert.equal(items.status, 200);
    const item = items.body.items.find((i) => i.trace_id === 't-new');
    assert.ok(item, 'every reviewer of the queue sees the added item');
    assert.equal(item.status, 'pending');
    const shown = JSON.stringify(item.input);
    assert.match(shown, /Cancel my booking/);
    assert.doesNotMatch(shown, /jane\.doe@example\.com/, 'reviewers read the redacted copy');
    const sample = await db
      .selectFrom('samples')
      .select(['reason', 'reasons'])
      .where('cycle_id', '=', 'c-open')
      .where('trace_id', '=', 't-new')
      .executeTakeFirstOrThrow();
    assert.deepEqual(sample, { reason: 'added_to_queue', reasons: ['added_to_queue'] });
    const audit = await db
      .selectFrom('audit_log')
      .select(['actor', 'action', 'detail'])
      .where('artifact', '=', 'c-open:item:t-new')
      .execute();
    assert.deepEqual(audit, [
      {
        actor: 'rita',
        action: 'queue.add_trace',
        detail: { queueId: annotationQueueId('c-open'), cycleId: 'c-open', traceId: 't-new' },
      },
    ]);
    // The trace page lists the review item.
    const trace = await call('rita', 'GET', '/api/traces/t-new');
    assert.deepEqual(
      (trace.body as unknown as { annotations: { itemId: string }[] }).annotations.map((a) => a.itemId),
      ['c-open:item:t-new'],
    );
  });

  it('a trace the cycle sampled and scored keeps its sample and carries the judge’s verdict and its cluster; the queue is found by its cycle id too', async () => {
    const added = await add('rita', 'c-open', { traceId: 't-scored' });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(added.body.judgeLabel, 'fail');
    assert.equal(added.body.clusterId, 'c-open:airline-fc001');
    const item = await db
      .selectFrom('annotation_items')
      .select(['judge_label', 'judge_category', 'judge_explanation', 'verdict_source', 'cluster_id'])
      .where('id', '=', added.body.itemId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(item, {
      judge_label: 'fail',
      judge_category: 'tool_selection',
      judge_explanation: 'answered without changing the seat',
      verdict_source: 'judge',
      cluster_id: 'c-open:airline-fc001',
    });
    const sample = await db
      .selectFrom('samples')
      .select('reason')
      .where('cycle_id', '=', 'c-open')
      .where('trace_id', '=', 't-scored')
      .executeTakeFirstOrThrow();
    assert.equal(sample.reason, 'random', 'the sampler’s reason stays');
  });

  it('answers bad input with a 4xx that says what was wrong, and stores nothing', async () => {
    const queue = annotationQueueId('c-open');
    const before = await itemCount();
    const cases: [unknown, number, RegExp][] = [
      [
        { traceId: 't-twice', addedBy: 'mallory' },
        400,
        /Remove "addedBy" from the body: who acts comes from your credentials \(you are rita\)/,
      ],
      [{ traceId: 't-twice', reviewer: 'mallory' }, 400, /Remove "reviewer"/],
      [{}, 400, /traceId is required/],
      [{ traceId: '  ' }, 400, /traceId must not be empty/],
      [{ traceId: 't-twice', priority: 'high' }, 400, /priority/],
      ['not json', 400, /JSON/],
      [{ traceId: 't-new' }, 409, /Trace t-new is already in queue .* as item c-open:item:t-new/],
      [{ traceId: 'no-such-trace' }, 404, /Agent airline has no trace "no-such-trace"/],
      // Another agent's trace reads as unknown: nothing about retail is told to an airline reviewer.
      [{ traceId: 'r-1' }, 404, /Agent airline has no trace "r-1"/],
    ];
    for (const [body, status, message] of cases) {
      const res = await add('rita', queue, body);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error, message);
    }
    const closed = await add('rita', annotationQueueId('c-done'), { traceId: 't-twice' });
    assert.equal(closed.status, 409);
    assert.match(
      closed.body.error,
      /is closed: cycle c-done is past annotation \(stage: done\).*Nothing was stored/,
    );
    const complete = await add('rita', annotationQueueId('c-full'), { traceId: 't-twice' });
    assert.equal(complete.status, 409);
    assert.match(complete.body.error, /is complete \(quorum reached\); it takes no more items/);
    assert.equal(await itemCount(), before, 'nothing was stored');
    assert.equal(
      (await db.selectFrom('samples').select('trace_id').where('trace_id', '=', 't-twice').execute()).length,
      0,
    );
  });

  it('only a reviewer of the queue’s agent adds: a viewer and another agent’s reviewer get 403, an unknown queue 403 or 404 by role', async () => {
    const queue = annotationQueueId('c-open');
    const viewer = await add('vera', queue, { traceId: 't-twice' });
    assert.equal(viewer.status, 403);
    assert.match(viewer.body.error, /needs the reviewer role/);
    const otherAgent = await add('rex', queue, { traceId: 'r-1' });
    assert.equal(otherAgent.status, 403);
    // Without a global role an unknown queue is a 403 (whether it exists is not told).
    assert.equal((await add('rita', 'no-such-queue', { traceId: 't-twice' })).status, 403);
    headers.gina = (await personWithToken(db, 'gina', 'reviewer')).headers;
    const unknown = await add('gina', 'no-such-queue', { traceId: 't-twice' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, /No annotation queue no-such-queue/);
    const added = await add('gina', queue, { traceId: 't-twice' });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(added.body.addedBy, 'gina');
  });

  it('a reviewer adds a selection of traces in one request: the valid ones are added, each refused one is reported by its index with its reason and status', async () => {
    const queue = annotationQueueId('c-open');
    const batch = async (who: string, target: string, body: unknown) => {
      const answer = await fetch(`${api.url}/api/queues/${target}/items/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers[who] },
        body: JSON.stringify(body),
      });
      return { status: answer.status, body: (await answer.json()) as AddedTraces & { error: string } };
    };
    const res = await batch('rita', queue, {
      traceIds: ['t-b1', 't-new', 'r-1', '  ', 't-b2', 't-b1', 7],
    });
    assert.equal(res.status, 207, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.added.map((a) => [a.traceId, a.itemId, a.addedBy, a.judgeLabel]),
      [
        ['t-b1', 'c-open:item:t-b1', 'rita', 'not_scored'],
        ['t-b2', 'c-open:item:t-b2', 'rita', 'not_scored'],
      ],
    );
    assert.deepEqual(
      res.body.errors.map((e) => [e.index, e.traceId, e.status]),
      [
        [1, 't-new', 409],
        [2, 'r-1', 404],
        [3, '  ', 400],
        [5, 't-b1', 409],
        [6, null, 400],
      ],
    );
    assert.match(
      res.body.errors[0]!.error,
      /Trace t-new is already in queue .* as item c-open:item:t-new\. It was not added\./,
    );
    assert.match(res.body.errors[1]!.error, /Agent airline has no trace "r-1"/);
    assert.match(res.body.errors[2]!.error, /traceIds\[3\]: .*traceId must not be empty/);
    const audit = await db
      .selectFrom('audit_log')
      .select(['actor', 'artifact'])
      .where('action', '=', 'queue.add_trace')
      .where('artifact', 'in', ['c-open:item:t-b1', 'c-open:item:t-b2'])
      .orderBy('artifact')
      .execute();
    assert.deepEqual(audit, [
      { actor: 'rita', artifact: 'c-open:item:t-b1' },
      { actor: 'rita', artifact: 'c-open:item:t-b2' },
    ]);

    // Every one added: 200. The queue is found by its cycle id too.
    const all = await batch('rita', 'c-open', { traceIds: ['t-b3'] });
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.deepEqual([all.body.queueId, all.body.added.length, all.body.errors], [queue, 1, []]);

    // A request that cannot be read, or a queue that takes nothing, refuses the whole list.
    const before = await itemCount();
    const refusals: [string, unknown, number, RegExp][] = [
      [queue, { traceIds: [] }, 400, /traceIds must be a list of 1 to 200 trace ids/],
      [queue, { traceIds: Array.from({ length: 201 }, (_, i) => `t-${i}`) }, 400, /1 to 200/],
      [queue, { traceIds: 't-b3' }, 400, /traceIds must be a list/],
      [queue, { traceIds: ['t-b3'], addedBy: 'mallory' }, 400, /Remove "addedBy" from the body/],
      [
        annotationQueueId('c-done'),
        { traceIds: ['t-b3'] },
        409,
        /is closed: cycle c-done is past annotation/,
      ],
    ];
    for (const [target, body, status, message] of refusals) {
      const refused = await batch('rita', target, body);
      assert.equal(refused.status, status, `${JSON.stringify(body)}: ${JSON.stringify(refused.body)}`);
      assert.match(refused.body.error, message);
    }
    assert.equal((await batch('vera', queue, { traceIds: ['t-b3'] })).status, 403);
    assert.equal(await itemCount(), before, 'nothing was stored');
  });
});
