/**
 * The pure parts of online evaluation and drift alerting: the judge's share of the daily
 * cost cap, the traces a cycle samples beyond its policy (drifted, failed online), how a
 * stored trace becomes a drift observation, and the alert's notice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JudgeBudget } from '../../evaluation/online/judge-budget.js';
import { withForcedTraces } from '../../traces/forced-samples.js';
import { driftObservation, unitVector } from '../../evaluation/drift/drift-observation.js';
import { describeFinding, driftAlertMessage } from '../../evaluation/drift/drift-alert-message.js';
import type { DriftAlert } from '../../evaluation/drift/drift-detector.js';
import { AgentConfig } from '../../schemas/agent-config.js';
import { POLICY_SECTIONS } from '../../registry/artifact-kinds.js';
import { renderOnlineStatus } from '../../evaluation/online/online-status-render.js';

describe('JudgeBudget', () => {
  it('lets the first trace start alone, then shares the cap by the dearest trace so far', () => {
    const b = new JudgeBudget(1, 0.2);
    assert.equal(b.tryStart(), true);
    // Nothing is known until the first trace finishes: a second may not start beside it.
    assert.equal(b.tryStart(), false);
    b.finish(0.3);
    assert.equal(b.spentUsd, 0.5);
    // 0.5 spent, 0.3 expected per trace: one more fits (0.8), a second beside it would not (1.1).
    assert.equal(b.tryStart(), true);
    assert.equal(b.tryStart(), false);
    b.finish(0.1);
    assert.equal(b.spentUsd, 0.6);
    assert.equal(b.exhausted, false);
    assert.equal(b.tryStart(), true);
    b.finish(0.3);
    assert.ok(Math.abs(b.spentUsd - 0.9) < 1e-12);
    assert.equal(b.exhausted, true);
    assert.equal(b.tryStart(), false);
  });

  it('holds a new run to the dearest trace of earlier runs that day', () => {
    const b = new JudgeBudget(4, 3.7, 0.4);
    assert.equal(b.tryStart(), false);
    const c = new JudgeBudget(4, 3.5, 0.4);
    assert.equal(c.tryStart(), true);
    assert.equal(c.tryStart(), false);
  });

  it('starts nothing once the day is spent, and anything when the judge costs nothing', () => {
    assert.equal(new JudgeBudget(1, 1).tryStart(), false);
    // A cap of 0 turns the judge off online.
    assert.equal(new JudgeBudget(0, 0).tryStart(), false);
    const free = new JudgeBudget(0.01, 0);
    assert.equal(free.tryStart(), true);
    free.finish(0);
    for (let i = 0; i < 50; i++) assert.equal(free.tryStart(), true);
  });
});

describe('withForcedTraces', () => {
  it('adds drifted and failed traces once each, keeping the picked ones and their place', () => {
    const picked = [
      { traceId: 'a', reason: 'random', reasons: ['random'] },
      { traceId: 'b', reason: 'negative_feedback', reasons: ['negative_feedback'] },
    ];
    const out = withForcedTraces(picked, [
      { traceId: 'b', reason: 'drift' },
      { traceId: 'c', reason: 'drift' },
      { traceId: 'c', reason: 'online_failure' },
      { traceId: 'd', reason: 'online_failure' },
    ]);
    assert.deepEqual(
      out.map((p) => [p.traceId, p.reason, p.reasons.join('+')]),
      [
        ['a', 'random', 'random'],
        ['b', 'negative_feedback', 'negative_feedback+drift'],
        ['c', 'drift', 'drift+online_failure'],
        ['d', 'online_failure', 'online_failure'],
      ],
    );
    // The input is not changed.
    assert.deepEqual(picked[1]!.reasons, ['negative_feedback']);
  });
});

describe('driftObservation', () => {
  const row = {
    id: 't1',
    started_at: new Date('2026-12-01T10:00:00Z'),
    attributes: { 'flywheel.slices': ['baggage', 'routine'] },
    feedback: -1,
    outcome: 'escalated',
    status: 'ok',
    latency_ms: 830,
    cost_usd: null,
    online_scores: 2,
    online_failures: 1,
  };

  it('reads slices, the online verdict, feedback, escalation, error, latency and cost', () => {
    const o = driftObservation(row, [1, 0]);
    assert.deepEqual(o, {
      traceId: 't1',
      timeMs: Date.parse('2026-12-01T10:00:00Z'),
      slices: ['baggage', 'routine'],
      judgePass: false,
      negativeFeedback: true,
      escalated: true,
      error: false,
      latencyMs: 830,
      embedding: [1, 0],
    });
  });

  it('leaves the verdict unset for a trace online evaluation did not score', () => {
    const o = driftObservation({
      ...row,
      online_scores: 0,
      online_failures: 0,
      status: 'error',
      feedback: 1,
    });
    assert.equal('judgePass' in o, false);
    assert.equal(o.error, true);
    assert.equal(o.negativeFeedback, false);
    assert.equal('embedding' in o, false);
  });

  it('scales embeddings to unit length', () => {
    assert.deepEqual(unitVector([3, 4]), [0.6, 0.8]);
    assert.deepEqual(unitVector([0, 0]), [0, 0]);
  });
});

describe('drift alert notice', () => {
  const alert: DriftAlert = {
    atMs: Date.parse('2026-12-03T12:00:00Z'),
    referenceStartMs: Date.parse('2026-12-01T12:00:00Z'),
    currentStartMs: Date.parse('2026-12-02T12:00:00Z'),
    findings: [
      {
        slice: 'baggage',
        metric: 'negative_feedback',
        test: 'fisher',
        before: 0.02,
        after: 0.41,
        referenceCount: 300,
        currentCount: 120,
        statistic: 49,
        pValue: 1e-12,
        alpha: 2e-7,
        sampleTraceIds: ['t9', 't8'],
      },
    ],
    driftedTraceIds: ['t9', 't8', 't7'],
    testsCounted: 40,
  };

  it('names the slice, the metric, before and after, the test and sample traces', () => {
    const line = describeFinding(alert.findings[0]!);
    assert.match(line, /slice baggage: negative feedback rate 2\.0 % → 41\.0 %/);
    assert.match(line, /300 → 120 traces, fisher p=1\.00e-12/);
    assert.match(line, /e\.g\. t9, t8/);
  });

  it('says whether a cycle started, and carries the evidence for machine receivers', () => {
    const started = driftAlertMessage({
      agent: 'air',
      alertId: 'drift-air-1',
      alert,
      cycleId: 'cycle-air-drift-1',
    });
    assert.equal(started.event, 'drift_alert');
    assert.match(started.text, /air: drift detected — baggage: negative feedback rate rose/);
    assert.match(started.text, /started cycle cycle-air-drift-1, sampling the 3 drifted traces at 100 %/);
    assert.deepEqual(started.data.driftedTraceIds, ['t9', 't8', 't7']);
    const quiet = driftAlertMessage({ agent: 'air', alertId: 'drift-air-1', alert, cycleId: null });
    assert.match(quiet.text, /no cycle started \(drift\.startCycleOnAlert is off\)/);
  });
});

describe('flywheel online', () => {
  it('prints spend, runs, the last drift check and each alert with its findings', () => {
    const text = renderOnlineStatus({
      agent: 'air',
      online: { enabled: true, sampleShare: 0.1, dailyCostCapUsd: 5, spentTodayUsd: 1.25 },
      drift: {
        enabled: true,
        startCycleOnAlert: true,
        epochStart: '2026-12-03T12:00:00.000Z',
        lastCheckAt: '2026-12-04T09:00:00.000Z',
        lastCheck: { tested: true, traces: 812, minPValue: 0.02, alpha: 2e-5 },
      },
      runs: [
        {
          windowStart: '2026-12-04T08:55:00.000Z',
          windowEnd: '2026-12-04T09:00:00.000Z',
          considered: 120,
          sampled: 12,
          scored: 12,
          failing: 3,
          skippedForCap: 2,
          judgeCalls: 10,
          tokens: 5000,
          costUsd: 0.05,
        },
      ],
      alerts: [
        {
          id: 'drift-air-1',
          at: '2026-12-03T12:00:00.000Z',
          referenceStart: '2026-12-01T12:00:00.000Z',
          currentStart: '2026-12-02T12:00:00.000Z',
          findings: [
            {
              slice: 'baggage',
              metric: 'negative_feedback',
              test: 'fisher',
              before: 0.02,
              after: 0.41,
              referenceCount: 300,
              currentCount: 120,
              statistic: 49,
              pValue: 1e-12,
              alpha: 2e-7,
              sampleTraceIds: ['t9'],
            },
          ],
          driftedTraces: 40,
          cycleId: 'cycle-air-drift-1',
          notified: true,
        },
      ],
    });
    assert.match(text, /online evaluation: on, 10 % of traces, \$1\.2500 of \$5 spent today/);
    assert.match(text, /12 of 120 traces scored, 3 failing, 2 not judged \(cap\), 10 judge calls/);
    assert.match(text, /drift alerts: on, an alert starts a cycle; epoch since 2026-12-03T12:00:00\.000Z/);
    assert.match(text, /812 traces, smallest p 2\.00e-2/);
    assert.match(
      text,
      /alert drift-air-1 at 2026-12-03T12:00:00\.000Z, started cycle-air-drift-1, 40 drifted traces\n/,
    );
    assert.match(text, /slice baggage: negative feedback rate 2\.0 % → 41\.0 %/);
  });

  it('says how to turn each on when it is off', () => {
    const text = renderOnlineStatus({
      agent: 'air',
      online: { enabled: false, sampleShare: 0.1, dailyCostCapUsd: 5, spentTodayUsd: 0 },
      drift: {
        enabled: false,
        startCycleOnAlert: false,
        epochStart: null,
        lastCheckAt: null,
        lastCheck: null,
      },
      runs: [],
      alerts: [],
    });
    assert.equal(
      text,
      'online evaluation: off (flywheel agent set air online.enabled=true)\ndrift alerts: off (flywheel agent set air drift.enabled=true)',
    );
  });
});

describe('agent configuration', () => {
  it('has online evaluation and drift alerts off by default, each a policy that rolls back alone', () => {
    const config = AgentConfig.parse({});
    assert.equal(config.online.enabled, false);
    assert.equal(config.drift.enabled, false);
    assert.ok(POLICY_SECTIONS.includes('online') && POLICY_SECTIONS.includes('drift'));
    assert.throws(() => AgentConfig.parse({ online: { sampleShare: 1.5 } }));
  });

  it('refuses a pace that stretches one run past 20 minutes, naming both settings', () => {
    assert.equal(AgentConfig.parse({}).online.maxTracesPerSecond, 4);
    const slow = AgentConfig.safeParse({ online: { maxTracesPerRun: 10_000, maxTracesPerSecond: 1 } });
    assert.equal(slow.success, false);
    const issue = slow.error.issues[0]!;
    assert.deepEqual(issue.path, ['online', 'maxTracesPerSecond']);
    assert.match(issue.message, /maxTracesPerRun \/ maxTracesPerSecond must be at most 1200 seconds/);
    assert.ok(AgentConfig.safeParse({ online: { maxTracesPerRun: 1200, maxTracesPerSecond: 1 } }).success);
  });
});
