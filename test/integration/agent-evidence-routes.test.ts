import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import type { Db } from '../../db/connection.js';
import type { AgentCluster } from '../../diagnosis/agent-clusters-service.js';
import type { DriftAlertView } from '../../evaluation/drift-alert-service.js';
import type { DriftFinding } from '../../evaluation/drift/drift-detector.js';
import { insertDriftAlert } from '../../evaluation/store/drift-repository.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { startTestDatabase } from '../helpers/test-stack.js';

describe('an agent’s clusters and drift alerts over HTTP on real PostgreSQL', () => {
  let database: { db: Db; url: string; teardown(): Promise<void> };
  let db: Db;
  let api: ApiServer;
  const headers: Record<string, Record<string, string>> = {};

  const get = async <T>(who: string, path: string) => {
    const res = await fetch(`${api.url}${path}`, { headers: headers[who] });
    return { status: res.status, body: (await res.json()) as T & { error: string } };
  };
  const finding = (slice: string, sampleTraceIds: string[]): DriftFinding => ({
    slice,
    metric: 'judge_fail',
    test: 'fisher',
    before: 0.05,
    after: 0.4,
    referenceCount: 200,
    currentCount: 40,
    statistic: 16,
    pValue: 1e-9,
    alpha: 1e-5,
    sampleTraceIds,
  });

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
    const cycle = (id: string, agent: string, startedAt: string) => ({
      id,
      agent_id: agent,
      run_id: `${id}-run`,
      stage: 'done',
      outcome: 'released',
      window_start: startedAt,
      window_end: startedAt,
      input: '{}',
      started_at: startedAt,
    });
    await db
      .insertInto('cycles')
      .values([
        cycle('c-old', 'airline', '2026-03-01T00:00:00Z'),
        cycle('c-new', 'airline', '2026-03-08T00:00:00Z'),
        cycle('c-quiet', 'airline', '2026-03-09T00:00:00Z'),
        cycle('r-1', 'retail', '2026-03-08T00:00:00Z'),
      ])
      .execute();
    const cluster = (id: string, cycleId: string, agent: string, stable: string | null, size: number) => ({
      id,
      cycle_id: cycleId,
      agent_id: agent,
      stable_id: stable,
      name: `cluster ${id}`,
      category: 'tool_selection',
      size,
    });
    await db
      .insertInto('clusters')
      .values([
        cluster('c-old:fc1', 'c-old', 'airline', 'airline-fc1', 5),
        cluster('c-new:fc1', 'c-new', 'airline', 'airline-fc1', 3),
        cluster('c-new:fc2', 'c-new', 'airline', null, 8),
        cluster('r-1:fc1', 'r-1', 'retail', 'retail-fc1', 2),
      ])
      .execute();
    for (const [id, agent, at, cycleId] of [
      ['drift-airline-1', 'airline', '2026-03-05T00:00:00Z', null],
      ['drift-airline-2', 'airline', '2026-03-07T00:00:00Z', 'c-new'],
      ['drift-retail-1', 'retail', '2026-03-07T00:00:00Z', null],
    ] as const)
      await insertDriftAlert(db, {
        id,
        agent_id: agent,
        at,
        reference_start: '2026-03-01T00:00:00Z',
        current_start: '2026-03-04T00:00:00Z',
        findings: JSON.stringify([finding('rebooking', [`${id}-t1`, `${id}-t2`])]),
        drifted_trace_ids: JSON.stringify([`${id}-t1`, `${id}-t2`, `${id}-t3`]),
        tests_counted: 21,
        cycle_id: cycleId,
      });
    headers.vera = (await personWithToken(db, 'vera', 'viewer', 'airline')).headers;
    headers.gil = (await personWithToken(db, 'gil', 'viewer')).headers;
    api = await startApiServer(apiDeps(db, new Client()), 0);
  });

  after(async () => {
    await api?.close();
    await database?.teardown();
  });

  it('lists the clusters of the agent’s newest clustered cycles, newest cycle and largest cluster first', async () => {
    const res = await get<{ agent: string; clusters: AgentCluster[] }>(
      'vera',
      '/api/agents/airline/clusters',
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.clusters.map((c) => [c.id, c.stableId, c.cycleId, c.size]),
      [
        ['c-new:fc2', null, 'c-new', 8],
        ['c-new:fc1', 'airline-fc1', 'c-new', 3],
        ['c-old:fc1', 'airline-fc1', 'c-old', 5],
      ],
      'a cycle without clusters does not count, another agent’s clusters are not listed',
    );
    assert.equal(res.body.clusters[0]!.cycleStartedAt, '2026-03-08T00:00:00.000Z');
    const newest = await get<{ clusters: AgentCluster[] }>('vera', '/api/agents/airline/clusters?cycles=1');
    assert.deepEqual(
      newest.body.clusters.map((c) => c.id),
      ['c-new:fc2', 'c-new:fc1'],
    );
    const bad = await get('vera', '/api/agents/airline/clusters?cycles=many');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /cycles must be a whole number, e\.g\. \?cycles=10; got "many"/);
    assert.equal((await get('vera', '/api/agents/airline/clusters?cycles=0')).status, 400);
    assert.equal((await get('vera', '/api/agents/retail/clusters')).status, 403);
    const unknown = await get('gil', '/api/agents/nobody/clusters');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, /Unknown agent "nobody"/);
  });

  it('lists the agent’s drift alerts newest first with every drifted trace, and shows one', async () => {
    const list = await get<{ agent: string; alerts: DriftAlertView[] }>(
      'vera',
      '/api/agents/airline/drift-alerts',
    );
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(
      list.body.alerts.map((a) => [a.id, a.cycleId, a.driftedTraceIds.length, a.testsCounted]),
      [
        ['drift-airline-2', 'c-new', 3, 21],
        ['drift-airline-1', null, 3, 21],
      ],
    );
    assert.deepEqual(list.body.alerts[0]!.findings, [
      finding('rebooking', ['drift-airline-2-t1', 'drift-airline-2-t2']),
    ]);
    const one = await get<DriftAlertView>('vera', '/api/agents/airline/drift-alerts/drift-airline-1');
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.driftedTraceIds, [
      'drift-airline-1-t1',
      'drift-airline-1-t2',
      'drift-airline-1-t3',
    ]);
    assert.equal(one.body.referenceStart, '2026-03-01T00:00:00.000Z');
    assert.equal(
      (await get<{ alerts: DriftAlertView[] }>('vera', '/api/agents/airline/drift-alerts?limit=1')).body
        .alerts.length,
      1,
    );
  });

  it('another agent’s alert reads as unknown, a viewer of another agent gets 403, a bad limit 400', async () => {
    const other = await get('gil', '/api/agents/airline/drift-alerts/drift-retail-1');
    assert.equal(other.status, 404);
    assert.match(other.body.error, /Agent airline has no drift alert "drift-retail-1"/);
    assert.equal((await get('vera', '/api/agents/retail/drift-alerts')).status, 403);
    assert.equal((await get('vera', '/api/agents/retail/drift-alerts/drift-retail-1')).status, 403);
    const bad = await get('vera', '/api/agents/airline/drift-alerts?limit=1000');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /limit must be a whole number from 1 to 200; got 1000/);
  });
});
