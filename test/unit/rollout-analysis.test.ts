import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateCondition, parseCondition } from '../../schemas/analysis-condition.js';
import {
  analysisPhase,
  compareOnSameInputs,
  measure,
  measureMetric,
  type VariantMetrics,
} from '../../release/rollout-analysis.js';
import { AnalysisTemplate, RolloutConfig, describeStep } from '../../schemas/rollout-config.js';

const traffic = (samples: number, values: VariantMetrics['values'], judged = 0): VariantMetrics => ({
  samples,
  judged,
  values,
});

describe('analysis conditions', () => {
  it('compares the result with constants and with the baseline', () => {
    assert.equal(evaluateCondition(parseCondition('result <= 0.05'), 0.05, null), true);
    assert.equal(evaluateCondition(parseCondition('result > baseline + 0.1'), 0.31, 0.2), true);
    assert.equal(
      evaluateCondition(parseCondition('result > baseline + 0.1'), 0.3, 0.2),
      false,
      'as written, not 0.30000000000000004',
    );
    assert.equal(evaluateCondition(parseCondition('result >= baseline - 0.02'), 0.9, 0.95), false);
    assert.equal(evaluateCondition(parseCondition('result <= baseline * 1.2'), 240, 200), true);
    assert.equal(evaluateCondition(parseCondition('result <= 1.2 * baseline'), 241, 200), false);
  });
  it('joins comparisons with && binding tighter than ||', () => {
    const c = parseCondition('result < 0.1 || result > 0.5 && result < 0.6');
    assert.deepEqual(
      [0.05, 0.3, 0.55, 0.7].map((x) => evaluateCondition(c, x, null)),
      [true, false, true, false],
    );
  });
  it('cannot decide a baseline comparison without a baseline', () => {
    assert.equal(evaluateCondition(parseCondition('result < baseline'), 0.2, null), null);
  });
  it('rejects anything but comparisons of result, with a message saying what to write', () => {
    for (const bad of [
      '',
      'process.exit(1)',
      'result <= ',
      'result ~ 3',
      'baseline > result',
      'result < baseline / 2',
    ])
      assert.throws(() => parseCondition(bad), /condition|comparison|right side/);
  });
  it('rejects a bad condition, an unknown metric and a weight outside 0–100 when the config is read', () => {
    const bad = RolloutConfig.safeParse({
      steps: [
        { setWeight: 120 },
        { analysis: { metrics: [{ name: 'happiness', failureCondition: 'result > 1' }] } },
      ],
    });
    assert.equal(bad.success, false);
    const text = bad.error.issues.map((i) => i.message).join(' | ');
    assert.match(text, /0 to 100/);
    const metric = AnalysisTemplate.safeParse({
      metrics: [{ name: 'happiness', failureCondition: 'result > 1' }],
    });
    assert.match(metric.error!.issues[0]!.message, /unknown metric "happiness"; use one of success_rate/);
    const condition = AnalysisTemplate.safeParse({
      metrics: [{ name: 'error_rate', failureCondition: 'rm -rf' }],
    });
    assert.match(condition.error!.issues[0]!.message, /is not a comparison/);
  });
  it("lets an analysis step override only what it names, inheriting the rollout's template", () => {
    const config = RolloutConfig.parse({
      steps: [{ analysis: { count: 5 } }, { analysis: {} }],
      analysis: { intervalSeconds: 2 },
    });
    const [first, second] = config.steps.map((s) =>
      'analysis' in s ? { ...config.analysis, ...s.analysis } : null,
    );
    assert.equal(first!.intervalSeconds, 2);
    assert.equal(first!.count, 5);
    assert.equal(second!.intervalSeconds, 2, 'an empty override does not bring back the 300 s default');
  });
  it('describes each kind of step for status and summaries', () => {
    const steps = RolloutConfig.parse({
      steps: [
        { replay: {} },
        { shadow: { durationSeconds: 60 } },
        { setWeight: 10 },
        { pause: {} },
        { pause: { durationSeconds: 30 } },
        { analysis: {} },
      ],
    }).steps.map(describeStep);
    assert.deepEqual(steps, [
      'replay 50 traces',
      'shadow 60s at 20%',
      'setWeight 10%',
      'pause (until resumed)',
      'pause 30s',
      'analysis',
    ]);
  });
});

describe('a measurement (Argo semantics)', () => {
  it('fails when the failure condition is met, whatever the success condition says', () => {
    const m = measureMetric(
      {
        name: 'negative_feedback_rate',
        successCondition: 'result < 0.5',
        failureCondition: 'result > baseline + 0.1',
      },
      traffic(50, { negative_feedback_rate: 0.3 }),
      traffic(100, { negative_feedback_rate: 0.1 }),
      20,
    );
    assert.equal(m.phase, 'failed');
    assert.match(m.reason, /failure condition "result > baseline \+ 0.1" met/);
  });
  it('fails an unmet success condition when there is no failure condition', () => {
    const m = measureMetric(
      { name: 'success_rate', successCondition: 'result >= 0.9' },
      traffic(50, { success_rate: 0.8 }),
      traffic(0, {}),
      20,
    );
    assert.equal(m.phase, 'failed', 'a constant condition needs no baseline traffic');
  });
  it('is inconclusive between the two regions, and on too little traffic', () => {
    const metric = {
      name: 'success_rate' as const,
      successCondition: 'result >= 0.9',
      failureCondition: 'result < 0.7',
    };
    assert.equal(
      measureMetric(metric, traffic(50, { success_rate: 0.8 }), traffic(50, {}), 20).phase,
      'inconclusive',
    );
    assert.equal(
      measureMetric(metric, traffic(5, { success_rate: 0.95 }), traffic(50, {}), 20).phase,
      'inconclusive',
    );
  });
  it('counts judged traces, not traffic, for the judge metric', () => {
    const metric = { name: 'judge_pass_rate' as const, failureCondition: 'result < baseline - 0.1' };
    const few = measureMetric(
      metric,
      traffic(500, { judge_pass_rate: 0.2 }, 3),
      traffic(500, { judge_pass_rate: 0.9 }, 30),
      20,
    );
    assert.equal(few.phase, 'inconclusive');
    const enough = measureMetric(
      metric,
      traffic(500, { judge_pass_rate: 0.2 }, 25),
      traffic(500, { judge_pass_rate: 0.9 }, 30),
      20,
    );
    assert.equal(enough.phase, 'failed');
  });
  it('is inconclusive on a metric the traffic does not carry (no latency recorded)', () => {
    const m = measureMetric(
      { name: 'latency_p95_ms', failureCondition: 'result > baseline * 1.5' },
      traffic(50, { latency_p95_ms: null }),
      traffic(50, { latency_p95_ms: 300 }),
      20,
    );
    assert.equal(m.phase, 'inconclusive');
  });
  it('fails the measurement if any metric failed and names it first', () => {
    const template = AnalysisTemplate.parse({ minSamples: 10 });
    const m = measure(
      template,
      traffic(40, { success_rate: 0.5, negative_feedback_rate: 0.1 }),
      traffic(80, { success_rate: 0.9, negative_feedback_rate: 0.1 }),
    );
    assert.equal(m.phase, 'failed');
    assert.match(m.reason, /^success_rate 0.500 vs baseline 0.900/);
  });
});

describe('an analysis run', () => {
  const t = { count: 3, failureLimit: 1, inconclusiveLimit: 1 };
  it('succeeds after count measurements within the limits', () => {
    assert.equal(analysisPhase(['successful', 'failed', 'successful'], t).phase, 'successful');
    assert.equal(analysisPhase(['successful', 'failed'], t).phase, 'running');
  });
  it('never succeeds on inconclusive measurements alone: it measures again until one succeeds or the limit is passed', () => {
    const once = { count: 1, failureLimit: 0, inconclusiveLimit: 2 };
    assert.equal(analysisPhase(['inconclusive'], once).phase, 'running');
    assert.equal(analysisPhase(['inconclusive', 'successful'], once).phase, 'successful');
    assert.equal(analysisPhase(['inconclusive', 'inconclusive', 'inconclusive'], once).phase, 'inconclusive');
  });
  it('fails as soon as failures exceed the failure limit', () => {
    assert.equal(analysisPhase(['failed', 'failed'], t).phase, 'failed');
  });
  it('turns inconclusive once inconclusive measurements exceed their limit', () => {
    assert.equal(analysisPhase(['inconclusive', 'inconclusive'], t).phase, 'inconclusive');
  });
});

describe('replay and shadow comparison', () => {
  const rows = (c: number, b: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({ candidatePass: i < c, baselinePass: i < b }));
  it('fails a candidate that drops more than the tolerance on the same inputs', () => {
    const r = compareOnSameInputs(rows(12, 18, 20), { maxPassRateDrop: 0.05, minTraces: 10 });
    assert.equal(r.phase, 'failed');
    assert.equal(r.candidatePassRate, 0.6);
  });
  it('passes within tolerance and is inconclusive on too few inputs', () => {
    assert.equal(
      compareOnSameInputs(rows(17, 18, 20), { maxPassRateDrop: 0.05, minTraces: 10 }).phase,
      'successful',
    );
    assert.equal(
      compareOnSameInputs(rows(2, 2, 3), { maxPassRateDrop: 0.05, minTraces: 10 }).phase,
      'inconclusive',
    );
  });
});
