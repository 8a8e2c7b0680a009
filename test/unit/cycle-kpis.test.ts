import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentKpis, cycleKpis, renderAgentKpis, type CycleKpiRow } from '../../cycles/cycle-kpis.js';

const at = (iso: string) => new Date(iso);
const noCost = { judgeCostUsd: 0, optimizerTokens: 0, teacherCalls: 0, rollouts: 0 };

function row(overrides: Partial<CycleKpiRow>): CycleKpiRow {
  return {
    cycleId: 'c',
    stage: 'done',
    outcome: 'released',
    startedAt: at('2026-11-09T00:00:00Z'),
    oldestSampledTraceAt: null,
    gate: null,
    rollout: null,
    annotation: null,
    cost: noCost,
    calibrations: [],
    ...overrides,
  };
}

describe('flywheel KPIs', () => {
  it('measures a released cycle: gate and online lift, loop time, drain, cost', () => {
    const k = cycleKpis(
      row({
        cycleId: 'c1',
        oldestSampledTraceAt: at('2026-11-02T00:00:00Z'),
        gate: { verdict: 'pass', delta: 0.25, ci: [0.1, 0.4], candidate: null, baseline: null },
        rollout: {
          status: 'completed',
          endedAt: at('2026-11-09T12:00:00Z'),
          lastSuccessRate: { candidate: 0.8, baseline: 0.55 },
        },
        annotation: {
          items: 8,
          complete: 6,
          openedAt: at('2026-11-09T01:00:00Z'),
          quorumAt: at('2026-11-09T04:30:00Z'),
        },
        cost: { judgeCostUsd: 0.12, optimizerTokens: 5000, teacherCalls: 7, rollouts: 300 },
      }),
    );
    assert.deepEqual(k.lift, { gateDelta: 0.25, gateCi: [0.1, 0.4], gateVerdict: 'pass', onlineDelta: 0.25 });
    // 7 days and 12 hours from the oldest sampled trace to the promotion.
    assert.equal(k.loopHours, 180);
    assert.deepEqual(k.annotation, { items: 8, drained: 0.75, hoursToQuorum: 3.5 });
    assert.equal(k.rollout, 'completed');
    assert.equal(k.cost.optimizerTokens, 5000);
  });

  it('has no loop time until the candidate becomes production', () => {
    const rolledBack = cycleKpis(
      row({
        outcome: 'rolled_back',
        oldestSampledTraceAt: at('2026-11-02T00:00:00Z'),
        rollout: { status: 'rolled_back', endedAt: at('2026-11-09T12:00:00Z'), lastSuccessRate: null },
      }),
    );
    assert.equal(rolledBack.loopHours, null);
    assert.equal(rolledBack.lift.onlineDelta, null);
    const gateFailed = cycleKpis(
      row({
        outcome: 'gate_failed',
        gate: { verdict: 'fail', delta: 0, ci: null, candidate: null, baseline: null },
      }),
    );
    assert.equal(gateFailed.loopHours, null);
    assert.equal(gateFailed.rollout, null);
    assert.equal(gateFailed.lift.gateDelta, 0);
  });

  it('summarises an agent: canary success rate over finished rollouts, means and a median', () => {
    const k = agentKpis('demo', [
      row({
        cycleId: 'w3',
        outcome: 'released',
        oldestSampledTraceAt: at('2026-11-16T00:00:00Z'),
        gate: { verdict: 'pass', delta: 0.3, ci: null, candidate: null, baseline: null },
        rollout: { status: 'completed', endedAt: at('2026-11-17T00:00:00Z'), lastSuccessRate: null },
        cost: { judgeCostUsd: 0.3, optimizerTokens: 3000, teacherCalls: 3, rollouts: 10 },
      }),
      row({
        cycleId: 'w2',
        outcome: 'rolled_back',
        gate: { verdict: 'pass', delta: 0.1, ci: null, candidate: null, baseline: null },
        rollout: { status: 'rolled_back', endedAt: at('2026-11-10T00:00:00Z'), lastSuccessRate: null },
        cost: { judgeCostUsd: 0.1, optimizerTokens: 1000, teacherCalls: 1, rollouts: 10 },
      }),
      row({
        cycleId: 'w1',
        outcome: 'released',
        oldestSampledTraceAt: at('2026-11-01T00:00:00Z'),
        gate: { verdict: 'pass', delta: 0.2, ci: null, candidate: null, baseline: null },
        rollout: { status: 'completed', endedAt: at('2026-11-04T00:00:00Z'), lastSuccessRate: null },
        cost: { judgeCostUsd: 0.2, optimizerTokens: 2000, teacherCalls: 2, rollouts: 10 },
      }),
      row({ cycleId: 'w0', outcome: 'no_candidate' }),
    ]);
    assert.equal(k.cycles, 4);
    assert.equal(k.releases, 2);
    assert.equal(k.rollbacks, 1);
    assert.equal(k.canarySuccessRate, 0.6667);
    assert.equal(k.meanGateDelta, 0.2);
    // Loop times 24 h and 72 h: the median of two is their mean.
    assert.equal(k.medianLoopHours, 48);
    assert.deepEqual(k.meanCostPerCycle, { judgeCostUsd: 0.15, optimizerTokens: 1500, teacherCalls: 1.5 });
    assert.equal(k.meanOnlineDelta, null);
    // Oldest first: w0 finished no rollout, w1 was promoted, w2 rolled back, w3 promoted.
    assert.deepEqual(
      k.perCycle.map((c) => [c.cycleId, c.canarySuccessRateToDate]),
      [
        ['w3', 0.6667],
        ['w2', 0.5],
        ['w1', 1],
        ['w0', null],
      ],
    );
    const text = renderAgentKpis(k);
    assert.match(text, /canary success rate 67%/);
    assert.match(text, /w2 \| rolled_back \| \+0\.100/);
  });

  it('measures success at the gate and online, and the judge agreement over calibrated dimensions', () => {
    const k = cycleKpis(
      row({
        gate: { verdict: 'pass', delta: 0.2, ci: null, candidate: 0.8, baseline: 0.6 },
        rollout: {
          status: 'completed',
          endedAt: at('2026-11-09T12:00:00Z'),
          lastSuccessRate: { candidate: 0.75, baseline: null },
        },
        calibrations: [
          { labels: 10, kappa: 0.6, accuracy: 0.9 },
          { labels: 8, kappa: null, accuracy: 0.7 },
        ],
      }),
    );
    assert.deepEqual(k.success, {
      gateProduction: 0.6,
      gateCandidate: 0.8,
      onlineProduction: null,
      onlineCandidate: 0.75,
    });
    // κ is undefined for a dimension whose labels are all one class: the mean skips it.
    assert.deepEqual(k.judgeAgreement, { kappa: 0.6, accuracy: 0.8, dimensions: 2, labels: 18 });
    assert.equal(cycleKpis(row({})).judgeAgreement, null);
    assert.equal(
      agentKpis('demo', [
        row({ calibrations: [{ labels: 4, kappa: 0.4, accuracy: 0.75 }] }),
        row({ calibrations: [{ labels: 4, kappa: 0.8, accuracy: 1 }] }),
      ]).meanJudgeKappa,
      0.6,
    );
  });

  it('reports no canary rate before any rollout has finished', () => {
    const k = agentKpis('demo', [row({ outcome: 'gate_failed' })]);
    assert.equal(k.canarySuccessRate, null);
    assert.equal(k.medianLoopHours, null);
    assert.equal(agentKpis('demo', []).meanCostPerCycle, null);
  });

  it('takes the online figures from online evaluation for a rollout without an analysis step, and says so', () => {
    const rollout = (r: Partial<NonNullable<CycleKpiRow['rollout']>>) =>
      row({
        rollout: {
          status: 'completed',
          endedAt: at('2026-11-10T00:00:00Z'),
          lastSuccessRate: null,
          ...r,
        },
      });
    const evaluated = cycleKpis(rollout({ onlinePassRate: { candidate: 0.9, baseline: 0.75 } }));
    assert.equal(evaluated.onlineFrom, 'online_evaluation');
    assert.deepEqual(
      [evaluated.success.onlineProduction, evaluated.success.onlineCandidate, evaluated.lift.onlineDelta],
      [0.75, 0.9, 0.15],
    );
    // An analysis that measured success wins over online evaluation.
    const analysed = cycleKpis(
      rollout({
        lastSuccessRate: { candidate: 0.6, baseline: 0.5 },
        onlinePassRate: { candidate: 0.9, baseline: 0.75 },
      }),
    );
    assert.equal(analysed.onlineFrom, 'rollout_analysis');
    assert.equal(analysed.lift.onlineDelta, 0.1);
    const neither = cycleKpis(rollout({ onlinePassRate: null }));
    assert.deepEqual([neither.onlineFrom, neither.success.onlineCandidate], [null, null]);
    assert.equal(cycleKpis(row({})).onlineFrom, null);
  });
});
