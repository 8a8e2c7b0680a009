import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import type { AgentKpis } from '../../cycles/cycle-kpis.js';
import type { Db } from '../../db/connection.js';
import type { OptimizationProgress } from '../../optimization/optimization-progress-service.js';
import { ensureAgent } from '../../registry/store/agent-repository.js';
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
});
