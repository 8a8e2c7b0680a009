import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import type { Db } from '../../db/connection.js';
import { createAgentToken } from '../../registry/agent-token-service.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { startTestDatabase } from '../helpers/test-stack.js';

interface Graph {
  root: string;
  nodes: { id: string }[];
}

/**
 * GET /api/lineage/:id for people who hold a role for one agent only: the route finds the
 * agent of whatever the id names (trace, cluster, annotation, example, version, run,
 * candidate, gate report, release decision, rollout, prompt version, cycle) and authorizes
 * there, answering another agent's id exactly as an id that names nothing.
 */
describe('lineage per agent over HTTP on real PostgreSQL', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let db: Db;
  let api: ApiServer;
  const who: Record<'alphaViewer' | 'betaViewer' | 'globalViewer', Record<string, string>> = {} as never;
  let alphaIngest = '';

  // A fixed hour two days back: the writer creates the partition.
  const base = Math.floor((Date.now() - 2 * 86_400_000) / 3_600_000) * 3_600_000;

  /** The whole chain for one agent: trace → … → rollout, every id prefixed with the agent. */
  async function chain(agent: string, token: string) {
    const res = await fetch(`${api.url}/api/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: `${agent}-t1`,
        timestamp: new Date(base).toISOString(),
        promptVersion: 1,
        input: { messages: [{ role: 'user', content: 'cancel my booking' }] },
        output: { action: 'respond', content: 'done' },
      }),
    });
    assert.equal(res.status, 200, await res.text());
    const cycle = `${agent}-cycle`;
    await db
      .insertInto('cycles')
      .values({
        id: cycle,
        agent_id: agent,
        run_id: `${cycle}-run`,
        stage: 'done',
        outcome: 'released',
        window_start: new Date(base - 3_600_000),
        window_end: new Date(base + 3_600_000),
        input: '{}',
      })
      .execute();
    await db
      .insertInto('samples')
      .values({ cycle_id: cycle, trace_id: `${agent}-t1`, reason: 'random' })
      .execute();
    await db
      .insertInto('clusters')
      .values({
        id: `${cycle}:${agent}-fc1`,
        cycle_id: cycle,
        agent_id: agent,
        stable_id: `${agent}-fc1`,
        category: 'planning',
        size: 1,
      })
      .execute();
    await db
      .insertInto('cluster_members')
      .values({ cluster_id: `${cycle}:${agent}-fc1`, trace_id: `${agent}-t1` })
      .execute();
    await db
      .insertInto('annotation_items')
      .values({
        id: `${agent}-item`,
        cycle_id: cycle,
        trace_id: `${agent}-t1`,
        cluster_id: `${cycle}:${agent}-fc1`,
        judge_label: 'fail',
      })
      .execute();
    const annotation = await db
      .insertInto('annotations')
      .values({ item_id: `${agent}-item`, reviewer: 'rita', verdict: 'fail' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('datasets')
      .values({ id: `${agent}-ds`, agent_id: agent, name: agent })
      .execute();
    await db
      .insertInto('dataset_versions')
      .values({ id: `${agent}-dv1`, agent_id: agent, version: 1, dataset_id: `${agent}-ds`, cycle_id: cycle })
      .execute();
    await db
      .insertInto('dataset_examples')
      .values({
        id: `${agent}-ex1`,
        dataset_version_id: `${agent}-dv1`,
        trace_id: `${agent}-t1`,
        cluster_id: `${cycle}:${agent}-fc1`,
        annotation_id: annotation.id,
        split: 'train',
        input: '{}',
        expected: '{}',
      })
      .execute();
    await db
      .insertInto('optimization_runs')
      .values({ id: `${agent}-run`, cycle_id: cycle, optimizer: 'gepa', config: '{}', status: 'done' })
      .execute();
    await db
      .insertInto('optimization_run_examples')
      .values({
        run_id: `${agent}-run`,
        example_id: `${agent}-ex1`,
        dataset_version_id: `${agent}-dv1`,
        example_key: `${agent}-t1`,
        content_hash: 'h',
      })
      .execute();
    await db
      .insertInto('candidates')
      .values({ id: `${agent}-cand`, run_id: `${agent}-run`, prompt_text: 'Ask first.', rationale: 'r' })
      .execute();
    await db
      .updateTable('optimization_runs')
      .set({ best_candidate_id: `${agent}-cand` })
      .where('id', '=', `${agent}-run`)
      .execute();
    await db
      .insertInto('prompt_versions')
      .values([
        { id: `${agent}-v1`, agent_id: agent, name: agent, version: 1, text: 'v1', source: 'seed' },
        {
          id: `${agent}-v2`,
          agent_id: agent,
          name: agent,
          version: 2,
          text: 'Ask first.',
          source: 'optimizer',
          candidate_id: `${agent}-cand`,
        },
      ])
      .execute();
    await db
      .insertInto('gate_reports')
      .values({
        id: `${agent}-gate`,
        cycle_id: cycle,
        candidate_id: `${agent}-cand`,
        baseline_version_id: `${agent}-v1`,
        candidate_version_id: `${agent}-v2`,
        passed: true,
        report: '{}',
      })
      .execute();
    await db
      .insertInto('release_decisions')
      .values({
        id: `${agent}-decision`,
        cycle_id: cycle,
        gate_report_id: `${agent}-gate`,
        decision: 'approved',
        decided_by: 'user:anna',
      })
      .execute();
    await db
      .insertInto('rollouts')
      .values({
        id: `${agent}-rollout`,
        cycle_id: cycle,
        agent_id: agent,
        release_decision_id: `${agent}-decision`,
        baseline_version_id: `${agent}-v1`,
        candidate_version_id: `${agent}-v2`,
        weight: 10,
        status: 'running',
      })
      .execute();
    await db
      .insertInto('rollout_steps')
      .values({
        rollout_id: `${agent}-rollout`,
        step_index: 0,
        round: 0,
        weight: 10,
        verdict: 'set',
        metrics: '{}',
      })
      .execute();
    return { annotation: annotation.id };
  }

  /** Every kind of id lineage starts from, for one agent. */
  const idsOf = (agent: string, annotation: string) => ({
    trace: `${agent}-t1`,
    cycle: `${agent}-cycle`,
    cluster: `${agent}-cycle:${agent}-fc1`,
    'stable cluster id': `${agent}-fc1`,
    'annotation item': `${agent}-item`,
    annotation,
    'dataset example': `${agent}-ex1`,
    'dataset version': `${agent}-dv1`,
    'optimization run': `${agent}-run`,
    candidate: `${agent}-cand`,
    'prompt version': `${agent}-v2`,
    'gate report': `${agent}-gate`,
    'release decision': `${agent}-decision`,
    rollout: `${agent}-rollout`,
  });
  let alpha: ReturnType<typeof idsOf>;
  let beta: ReturnType<typeof idsOf>;

  const lineage = async (person: keyof typeof who, id: string) => {
    const res = await fetch(`${api.url}/api/lineage/${encodeURIComponent(id)}`, { headers: who[person] });
    return { status: res.status, body: await res.text() };
  };

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    await db
      .insertInto('agents')
      .values([
        { id: 'alpha', config: '{}' },
        { id: 'beta', config: '{}' },
      ])
      .execute();
    api = await startApiServer(apiDeps(db, new Client()), 0);
    who.alphaViewer = (await personWithToken(db, 'ada', 'viewer', 'alpha')).headers;
    who.betaViewer = (await personWithToken(db, 'bo', 'viewer', 'beta')).headers;
    who.globalViewer = (await personWithToken(db, 'gil', 'viewer')).headers;
    alphaIngest = (await createAgentToken(db, { agent: 'alpha', scopes: ['ingest'], createdBy: 'test' }))
      .token;
    const betaIngest = (await createAgentToken(db, { agent: 'beta', scopes: ['ingest'], createdBy: 'test' }))
      .token;
    alpha = idsOf('alpha', (await chain('alpha', alphaIngest)).annotation);
    beta = idsOf('beta', (await chain('beta', betaIngest)).annotation);
  });
  after(async () => {
    await api?.close();
    await database?.teardown();
  });

  it('gives a per-agent viewer the lineage of every kind of id of their own agent, as a global viewer sees it', async () => {
    for (const [kind, id] of Object.entries(alpha)) {
      const own = await lineage('alphaViewer', id);
      assert.equal(own.status, 200, `${kind} ${id}: ${own.body}`);
      const global = await lineage('globalViewer', id);
      assert.equal(global.status, 200, `${kind} ${id} for a global viewer: ${global.body}`);
      assert.deepEqual(JSON.parse(own.body), JSON.parse(global.body), `${kind}: the same graph`);
    }
  });

  it('draws the whole chain from the trace to the rollout for a per-agent viewer', async () => {
    const graph = JSON.parse((await lineage('alphaViewer', alpha['release decision'])).body) as Graph;
    assert.equal(graph.root, 'release_decision:alpha-decision');
    const nodes = new Set(graph.nodes.map((n) => n.id));
    for (const expected of [
      'gate_report:alpha-gate',
      'candidate:alpha-cand',
      'optimization_run:alpha-run',
      'dataset_version:alpha-dv1',
      'dataset_example:alpha-ex1',
      'trace:alpha-t1',
      'rollout:alpha-rollout',
    ])
      assert.ok(nodes.has(expected), `${expected} in ${[...nodes].join(', ')}`);
    assert.ok(
      graph.nodes.every((n) => !n.id.includes('beta')),
      "no node of the other agent's chain",
    );
  });

  it("answers another agent's id exactly as an id that names nothing: 403, the same body", async () => {
    const nothing = await lineage('alphaViewer', 'no-such-id');
    assert.equal(nothing.status, 403);
    const nothingId = await lineage('alphaViewer', '987654321');
    assert.deepEqual(nothingId, nothing, 'an annotation-shaped id that names nothing');
    for (const [kind, id] of Object.entries(beta)) {
      const foreign = await lineage('alphaViewer', id);
      assert.deepEqual(foreign, nothing, `beta's ${kind} ${id} for a viewer of alpha`);
      assert.equal((await lineage('betaViewer', id)).status, 200, `beta's ${kind} for a viewer of beta`);
    }
    assert.doesNotMatch(nothing.body, /beta|alpha-/, 'the refusal names no agent or id found');
  });

  it('keeps the 404 for a global viewer who asks about nothing, and refuses an agent token', async () => {
    const missing = await lineage('globalViewer', 'no-such-id');
    assert.equal(missing.status, 404);
    assert.match(
      (JSON.parse(missing.body) as { error: string }).error,
      /Nothing is recorded under "no-such-id"/,
    );
    const token = await fetch(`${api.url}/api/lineage/${alpha.trace}`, {
      headers: { authorization: `Bearer ${alphaIngest}` },
    });
    assert.equal(token.status, 403, 'an ingest token reads no lineage, even of its own agent');
  });
});
