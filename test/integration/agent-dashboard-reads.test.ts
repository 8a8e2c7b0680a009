import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import type { AgentKpis } from '../../cycles/cycle-kpis.js';
import type { Db } from '../../db/connection.js';
import type { OptimizationProgress } from '../../optimization/optimization-progress-service.js';
import { ensureAgent } from '../../registry/store/agent-repository.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { createPromptVersion } from '../../registry/store/prompt-repository.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { startTestDatabase } from '../helpers/test-stack.js';

/**
 * The reads behind the console's agent dashboard and the cycle page's optimizer chart, over
 * HTTP on stored rows: measured success and judge agreement per cycle in GET
 * /api/agents/:id/kpis, and the optimizer's best score over rollouts in GET
 * /api/cycles/:id/optimization. The full-cycle test checks the same KPIs on a real cycle.
 */
describe('agent dashboard reads: KPIs per cycle and optimizer progress', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let db: Db;
  let api: ApiServer;
  let headers: Record<string, string>;
  const get = async (path: string, as = headers) => {
    const res = await fetch(`${api.url}${path}`, { headers: as });
    return { status: res.status, body: await res.json() };
  };

  /** A finished cycle with an optimization run, a gate report and judge calibrations. */
  async function storedCycle(
    id: string,
    startedAt: string,
    o: {
      trajectory: unknown;
      composite: { candidate: number; baseline: number };
      calibrations: { dimension: string; labels: number; kappa: number | null; accuracy: number }[];
    },
  ) {
    await db
      .insertInto('cycles')
      .values({
        id,
        agent_id: 'shop',
        run_id: `${id}-run`,
        stage: 'done',
        outcome: 'gate_failed',
        window_start: startedAt,
        window_end: startedAt,
        input: JSON.stringify({ agent: 'shop' }),
        started_at: startedAt,
      })
      .execute();
    const runId = `${id}-optimize`;
    await db
      .insertInto('optimization_runs')
      .values({
        id: runId,
        cycle_id: id,
        optimizer: 'gepa',
        config: JSON.stringify({ name: 'gepa', budgetPlan: { maxRollouts: 400 } }),
        status: 'completed',
        baseline_score: o.composite.baseline,
        best_score: o.composite.candidate,
        rollouts: 380,
        stop_reason: 'rollout budget reached (400)',
        trajectory: JSON.stringify(o.trajectory),
      })
      .execute();
    await db
      .insertInto('candidates')
      .values({ id: `${runId}/best`, run_id: runId, prompt_text: 'p', rationale: 'r', parent_id: null })
      .execute();
    const baseline = await createPromptVersion(db, 'shop', `prompt of ${id}`, 'seed', null);
    await db
      .insertInto('gate_reports')
      .values({
        id: `${id}-gate`,
        cycle_id: id,
        candidate_id: `${runId}/best`,
        baseline_version_id: baseline.id,
        candidate_version_id: null,
        passed: false,
        failing_assertion: 'holdout',
        report: JSON.stringify({
          verdict: 'fail',
          composite: {
            weights: {},
            ...o.composite,
            delta: o.composite.candidate - o.composite.baseline,
            ci: null,
          },
        }),
      })
      .execute();
    for (const c of o.calibrations)
      await db
        .insertInto('judge_calibrations')
        .values({ cycle_id: id, agent_id: 'shop', f1: null, can_gate: true, reason: 'ok', ...c })
        .execute();
  }

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    // Temporal is not needed: a lazy client never connects.
    api = await startApiServer(apiDeps(db, new Client()), 0);
    await ensureAgent(db, 'shop');
    await ensureAgent(db, 'other');
    headers = (await personWithToken(db, 'dana', 'viewer', 'shop')).headers;
    await storedCycle('cycle-shop-w1', '2026-11-02T00:00:00Z', {
      trajectory: [
        { rollouts: 20, candidateId: 'cand_base', score: 0.5 },
        { rollouts: 140, candidateId: 'cand_a', score: 0.7 },
        // A noisier estimate of a later pick: the best so far stays 0.7.
        { rollouts: 260, candidateId: 'cand_b', score: 0.65 },
      ],
      composite: { candidate: 0.66, baseline: 0.5 },
      calibrations: [
        { dimension: 'task_completion', labels: 12, kappa: 0.5, accuracy: 0.75 },
        { dimension: 'tool_selection', labels: 12, kappa: 0.7, accuracy: 0.85 },
      ],
    });
    await storedCycle('cycle-shop-w2', '2026-11-09T00:00:00Z', {
      trajectory: 'not a trajectory',
      composite: { candidate: 0.75, baseline: 0.7 },
      calibrations: [],
    });
  });
  after(async () => {
    await api?.close();
    await database?.teardown();
  });

  it('answers measured success and judge agreement per cycle, newest first', async () => {
    const { status, body } = await get('/api/agents/shop/kpis');
    assert.equal(status, 200, JSON.stringify(body));
    const kpis = body as AgentKpis;
    assert.deepEqual(
      kpis.perCycle.map((c) => c.cycleId),
      ['cycle-shop-w2', 'cycle-shop-w1'],
    );
    const [w2, w1] = kpis.perCycle;
    assert.deepEqual(w1?.success, {
      gateProduction: 0.5,
      gateCandidate: 0.66,
      onlineProduction: null,
      onlineCandidate: null,
    });
    assert.deepEqual(w1?.judgeAgreement, { kappa: 0.6, accuracy: 0.8, dimensions: 2, labels: 24 });
    assert.equal(w2?.judgeAgreement, null, 'a cycle that calibrated no dimension has no agreement');
    assert.equal(w2?.success.gateCandidate, 0.75);
    assert.equal(kpis.meanJudgeKappa, 0.6);
    assert.equal(w1?.canarySuccessRateToDate, null, 'no rollout has finished');
    assert.equal(w1?.cost.rollouts, 380);
  });

  it("answers a cycle's optimizer progress: the best score over rollouts, the baseline and the budget", async () => {
    const { status, body } = await get('/api/cycles/cycle-shop-w1/optimization');
    assert.equal(status, 200, JSON.stringify(body));
    const { runs } = body as { cycleId: string; runs: OptimizationProgress[] };
    assert.equal(runs.length, 1);
    const [run] = runs;
    assert.equal(run?.optimizer, 'gepa');
    assert.equal(run?.baselineScore, 0.5);
    assert.equal(run?.maxRollouts, 400);
    assert.equal(run?.rollouts, 380);
    assert.deepEqual(
      run?.points.map((p) => [p.rollouts, p.score, p.best]),
      [
        [20, 0.5, 0.5],
        [140, 0.7, 0.7],
        [260, 0.65, 0.7],
      ],
    );
    const broken = await get('/api/cycles/cycle-shop-w2/optimization');
    assert.equal(broken.status, 200);
    assert.deepEqual(
      (broken.body as { runs: OptimizationProgress[] }).runs[0]?.points,
      [],
      'a malformed stored trajectory shows the run without points',
    );
  });

  it("refuses a person without a role for the cycle's agent, and an unknown cycle", async () => {
    const outsider = (await personWithToken(db, 'olaf', 'viewer', 'other')).headers;
    assert.equal((await get('/api/cycles/cycle-shop-w1/optimization', outsider)).status, 403);
    assert.equal((await get('/api/agents/shop/kpis', outsider)).status, 403);
    const unknown = await get('/api/cycles/cycle-nobody/optimization');
    assert.ok([403, 404].includes(unknown.status), `unknown cycle: ${unknown.status}`);
  });

  it('feeds the online figures of a rollout without an analysis step from online evaluation: each version’s pass rate while it ran', async () => {
    // Two days ago (within the traces' retention), minutes after a whole hour.
    const hour = Math.floor((Date.now() - 2 * 86_400_000) / 3_600_000) * 3_600_000;
    const at = (minutes: number) => new Date(hour + minutes * 60_000).toISOString();
    await storedCycle('cycle-shop-w3', at(0), {
      trajectory: [],
      composite: { candidate: 0.8, baseline: 0.75 },
      calibrations: [],
    });
    const baseline = await db
      .selectFrom('gate_reports')
      .select('baseline_version_id')
      .where('cycle_id', '=', 'cycle-shop-w3')
      .executeTakeFirstOrThrow();
    const candidate = await createPromptVersion(db, 'shop', 'candidate of cycle-shop-w3', 'optimizer', null);
    const base = await db
      .selectFrom('prompt_versions')
      .select(['id', 'version'])
      .where('id', '=', baseline.baseline_version_id)
      .executeTakeFirstOrThrow();
    await db
      .insertInto('rollouts')
      .values({
        id: 'cycle-shop-w3-rollout',
        cycle_id: 'cycle-shop-w3',
        agent_id: 'shop',
        release_decision_id: null,
        baseline_version_id: base.id,
        candidate_version_id: candidate.id,
        weight: 100,
        status: 'completed',
        reason: null,
        workflow_id: null,
        started_at: at(60),
        ended_at: at(300),
      })
      .execute();
    // Traffic while it ran: the candidate passes 1 of 2 scored traces, production 1 of 3; a
    // trace after the rollout ended and one online evaluation did not score do not count.
    const traces: [string, number, number, ('pass' | 'fail')[]][] = [
      ['w3-c1', candidate.version, 120, ['pass', 'pass']],
      ['w3-c2', candidate.version, 130, ['pass', 'fail']],
      ['w3-c3', candidate.version, 140, []],
      ['w3-b1', base.version, 150, ['pass']],
      ['w3-b2', base.version, 160, ['fail']],
      ['w3-b3', base.version, 170, ['fail', 'fail']],
      ['w3-late', candidate.version, 360, ['fail']],
    ];
    const { token } = await createAgentToken(db, { agent: 'shop', scopes: ['ingest'], createdBy: 'test' });
    const sent = await fetch(`${api.url}/api/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: traces
        .map(([id, version, time]) =>
          JSON.stringify({
            id,
            timestamp: at(time),
            promptName: 'shop',
            promptVersion: version,
            input: { messages: [{ role: 'user', content: `request ${id}` }] },
            output: { action: 'respond', content: `answer ${id}` },
          }),
        )
        .join('\n'),
    });
    assert.equal(sent.status, 200, await sent.text());
    for (const [id, , time, labels] of traces)
      for (const [i, label] of labels.entries())
        await db
          .insertInto('scores')
          .values({
            cycle_id: null,
            agent_id: 'shop',
            trace_id: id,
            trace_started_at: at(time),
            evaluator: `code:check_${i}`,
            dimension: `check_${i}`,
            value: label === 'pass' ? 1 : 0,
            label,
            category: null,
            explanation: `check ${i} of ${id}`,
            source: 'code',
          })
          .execute();

    const { status, body } = await get('/api/agents/shop/kpis');
    assert.equal(status, 200, JSON.stringify(body));
    const w3 = (body as AgentKpis).perCycle.find((c) => c.cycleId === 'cycle-shop-w3');
    assert.equal(w3?.onlineFrom, 'online_evaluation');
    assert.deepEqual(
      [w3?.success.onlineCandidate, w3?.success.onlineProduction, w3?.lift.onlineDelta],
      [0.5, 0.3333, 0.1667],
    );
    const w1 = (body as AgentKpis).perCycle.find((c) => c.cycleId === 'cycle-shop-w1');
    assert.equal(w1?.onlineFrom, null, 'a cycle without a rollout has no online figures');
  });
});
