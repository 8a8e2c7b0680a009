import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateCondition, parseCondition } from '../../schemas/analysis-condition.js';
import {
  analysisPhase,
  compareOnSameInputs,
  measure,
  measureMetric,
  type MeasurementPhase,
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
    const effect = AnalysisTemplate.safeParse({ minimumDetectableEffect: 10, alpha: 0 });
    assert.deepEqual(
      effect.error!.issues.map((i) => i.message),
      ['alpha is a probability above 0', 'minimumDetectableEffect is a difference in rate points, at most 1'],
    );
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

const settings = { minSamples: 20, alpha: 0.05, power: 0.8, minimumDetectableEffect: 0.1 };

describe('a measurement (Argo semantics, rate conditions judged with confidence)', () => {
  it('fails when the failure condition holds with confidence, whatever the success condition says', () => {
    const m = measureMetric(
      {
        name: 'negative_feedback_rate',
        successCondition: 'result < 0.5',
        failureCondition: 'result > baseline + 0.1',
      },
      traffic(200, { negative_feedback_rate: 0.5 }),
      traffic(400, { negative_feedback_rate: 0.1 }),
      settings,
    );
    assert.equal(m.phase, 'failed');
    assert.match(m.reason, /failure condition "result > baseline \+ 0.1" holds with 95% confidence/);
    assert.ok(m.evidence!.low > 0.1, 'the whole interval is beyond the threshold');
  });
  it('does not fail on the same point values when the sample cannot show it', () => {
    const m = measureMetric(
      { name: 'negative_feedback_rate', failureCondition: 'result > baseline + 0.1' },
      traffic(25, { negative_feedback_rate: 0.28 }),
      traffic(25, { negative_feedback_rate: 0.12 }),
      settings,
    );
    assert.equal(m.phase, 'inconclusive', m.reason);
    assert.match(m.reason, /not decided yet, keep measuring/);
  });
  it('fails a success condition ruled out with confidence when there is no failure condition', () => {
    const m = measureMetric(
      { name: 'success_rate', successCondition: 'result >= 0.9' },
      traffic(200, { success_rate: 0.7 }),
      traffic(0, {}),
      settings,
    );
    assert.equal(m.phase, 'failed', 'a constant condition needs no baseline traffic');
    assert.match(m.reason, /success condition "result >= 0.9" ruled out/);
  });
  it('is inconclusive between the two regions, and on too little traffic', () => {
    const metric = {
      name: 'success_rate' as const,
      successCondition: 'result >= 0.9',
      failureCondition: 'result < 0.7',
    };
    assert.equal(
      measureMetric(metric, traffic(50, { success_rate: 0.8 }), traffic(50, {}), settings).phase,
      'inconclusive',
    );
    const settled = measureMetric(metric, traffic(5000, { success_rate: 0.8 }), traffic(50, {}), settings);
    assert.equal(settled.phase, 'inconclusive');
    assert.match(settled.reason, /between the conditions/);
    const few = measureMetric(metric, traffic(5, { success_rate: 0.95 }), traffic(50, {}), settings);
    assert.equal(few.phase, 'inconclusive');
    assert.match(few.reason, /not enough traffic \(candidate 5; need 20\)/);
  });
  it('counts judged traces, not traffic, for the judge metric', () => {
    const metric = { name: 'judge_pass_rate' as const, failureCondition: 'result < baseline - 0.1' };
    const few = measureMetric(
      metric,
      traffic(500, { judge_pass_rate: 0.2 }, 3),
      traffic(500, { judge_pass_rate: 0.9 }, 30),
      settings,
    );
    assert.equal(few.phase, 'inconclusive');
    const enough = measureMetric(
      metric,
      traffic(500, { judge_pass_rate: 0.2 }, 25),
      traffic(500, { judge_pass_rate: 0.9 }, 30),
      settings,
    );
    assert.equal(enough.phase, 'failed');
    assert.deepEqual(enough.evidence!.candidate, { successes: 5, trials: 25 });
  });
  it('is inconclusive on a metric the traffic does not carry (no latency recorded)', () => {
    const m = measureMetric(
      { name: 'latency_p95_ms', failureCondition: 'result > baseline * 1.5' },
      traffic(50, { latency_p95_ms: null }),
      traffic(50, { latency_p95_ms: 300 }),
      settings,
    );
    assert.equal(m.phase, 'inconclusive');
  });
  it('reads latency and cost conditions on the point values', () => {
    const metric = { name: 'latency_p95_ms' as const, successCondition: 'result <= baseline * 1.25' };
    const ok = measureMetric(
      metric,
      traffic(50, { latency_p95_ms: 360 }),
      traffic(50, { latency_p95_ms: 300 }),
      settings,
    );
    assert.equal(ok.phase, 'successful');
    assert.equal(ok.evidence, undefined);
    const slow = measureMetric(
      metric,
      traffic(50, { latency_p95_ms: 400 }),
      traffic(50, { latency_p95_ms: 300 }),
      settings,
    );
    assert.equal(slow.phase, 'failed');
  });
  it('fails the measurement if any metric failed and names it first', () => {
    const template = AnalysisTemplate.parse({ minSamples: 10 });
    const m = measure(
      template,
      traffic(40, { success_rate: 0.4, negative_feedback_rate: 0.1 }),
      traffic(80, { success_rate: 0.9, negative_feedback_rate: 0.1 }),
    );
    assert.equal(m.phase, 'failed');
    assert.match(m.reason, /^success_rate 0.400 \(16\/40\) vs baseline 0.900 \(72\/80\); difference −0.500/);
  });
});

describe('the sequential decision on a rate metric', () => {
  const template = AnalysisTemplate.parse({});
  it('does not roll back on 3 of 10 against 47 of 90 (the rollback of issue 15)', () => {
    const thin = measure(
      template,
      traffic(10, { success_rate: 0.3 }),
      traffic(90, { success_rate: 47 / 90 }),
    );
    assert.equal(thin.phase, 'inconclusive');
    assert.match(thin.reason, /not enough traffic/);
    // Without the floor on samples, the test itself does not call it either.
    const floorless = measureMetric(
      template.metrics[0]!,
      traffic(10, { success_rate: 0.3 }),
      traffic(90, { success_rate: 47 / 90 }),
      { ...settings, minSamples: 1 },
    );
    assert.equal(floorless.phase, 'inconclusive');
    assert.ok(
      floorless.evidence!.high > -0.1,
      `interval ${floorless.evidence!.low}..${floorless.evidence!.high}`,
    );
  });
  it('rolls back the same rates once there is traffic enough to show the regression', () => {
    const m = measure(template, traffic(200, { success_rate: 0.3 }), traffic(1800, { success_rate: 0.52 }));
    assert.equal(m.phase, 'failed', m.reason);
    assert.match(m.reason, /failure condition "result < baseline - 0.1" holds with 95% confidence/);
  });
  it('promotes a candidate shown not worse only once the step has the minimum sample from power', () => {
    const metric = { name: 'success_rate' as const, failureCondition: 'result < baseline - 0.1' };
    // Clearly better already: the interval excludes "worse by 10 points", but 60 traces at a
    // 10 % split are fewer than even a fixed-sample test needs for a 0.1 difference at 80 % power.
    const early = measureMetric(
      metric,
      traffic(60, { success_rate: 0.75 }),
      traffic(540, { success_rate: 0.5 }),
      settings,
    );
    assert.ok(early.evidence!.low > -0.1);
    assert.equal(early.phase, 'inconclusive');
    assert.match(
      early.reason,
      /not enough traffic to promote yet: the minimum sample .* is about \d+ candidate traces/,
    );
    // (1.96 + 0.84)² × 0.249 × (1 + 1/9) / 0.1² ≈ 217 at the pooled rate 0.525.
    const needed = early.evidence!.candidateTracesNeeded;
    assert.ok(needed >= 210 && needed <= 225, `needed ${needed}`);
    const later = measureMetric(
      metric,
      traffic(needed, { success_rate: 0.75 }),
      traffic(9 * needed, { success_rate: 0.5 }),
      settings,
    );
    assert.equal(later.phase, 'successful', later.reason);
    assert.match(later.reason, /failure condition "result < baseline - 0.1" ruled out with 95% confidence/);
    // A larger minimum detectable effect needs fewer traces.
    const coarse = measureMetric(
      metric,
      traffic(60, { success_rate: 0.75 }),
      traffic(540, { success_rate: 0.5 }),
      { ...settings, minimumDetectableEffect: 0.3 },
    );
    assert.equal(coarse.phase, 'successful', coarse.reason);
  });
  it('keeps measuring an equal candidate until its interval clears the tolerance', () => {
    const metric = { name: 'success_rate' as const, failureCondition: 'result < baseline - 0.1' };
    const phase = (n: number) =>
      measureMetric(metric, traffic(n, { success_rate: 0.5 }), traffic(n, { success_rate: 0.5 }), settings)
        .phase;
    assert.equal(phase(100), 'inconclusive');
    assert.equal(phase(2000), 'successful');
  });
  it('too little traffic keeps measuring and never fails the step: it ends inconclusive, for a human', () => {
    // A 1 % canary: 2 candidate traces per measurement against 200 of the baseline's 52 %.
    // However bad the candidate looks on the point values (30 % is issue 15's 3 of 10), the
    // default template's looks (inconclusiveLimit 11) end inconclusive, never failed.
    for (const rate of [0.3, 0.4, 0.5, 0.6]) {
      const phases: MeasurementPhase[] = [];
      let run = analysisPhase(phases, template);
      for (let look = 1; run.phase === 'running'; look++) {
        const n = 2 * look;
        const m = measure(
          template,
          traffic(n, { success_rate: Math.round(rate * n) / n, negative_feedback_rate: 0 }),
          traffic(200 * look, { success_rate: 0.52, negative_feedback_rate: 0 }),
        );
        assert.equal(m.phase, 'inconclusive', `look ${look}: ${m.reason}`);
        phases.push(m.phase);
        run = analysisPhase(phases, template);
      }
      assert.equal(run.phase, 'inconclusive');
      assert.equal(phases.length, template.inconclusiveLimit + 1);
    }
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
