import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideGate, type ExampleScores } from '../../release/gate-decision.js';
import { renderGateReportMarkdown } from '../../release/gate-report-markdown.js';
import { pairedBootstrap } from '../../release/paired-bootstrap.js';
import { passAtOne, passHatK } from '../../release/pass-at-k.js';
import { nextFloat, seedPrng } from '../../optimizers/prng.js';
import { AgentConfig } from '../../schemas/agent-config.js';
import { CycleInput } from '../../schemas/cycle-input.js';
import {
  GateConfig,
  GateOverride,
  resolveGateConfig,
  type GateConfigInput,
} from '../../schemas/gate-config.js';
import { GateReport } from '../../schemas/gate-report.js';

const config = (c: GateConfigInput = {}) => GateConfig.parse(c);

/** n eval examples whose score on `dim` follows `score(i)`. */
function table(
  n: number,
  scores: (i: number) => Record<string, number>,
  extra: (i: number) => Partial<ExampleScores> = () => ({}),
): ExampleScores[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `ex${i}`,
    split: 'eval' as const,
    slices: [],
    scores: scores(i),
    ...extra(i),
  }));
}

const byName = (r: GateReport, name: string) => {
  const a = r.assertions.find((x) => x.name === name);
  assert.ok(a, `no assertion ${name} in ${r.assertions.map((x) => x.name).join(', ')}`);
  return a;
};

describe('gate configuration', () => {
  it('rejects an unknown dimension, listing the known ones', () => {
    const r = GateConfig.safeParse({ assertions: [{ dimension: 'helpfulness', threshold: 0.5 }] });
    assert.equal(r.success, false);
    const message = r.error.issues.map((i) => i.message).join('\n');
    assert.match(message, /unknown gate dimension "helpfulness"/);
    for (const known of ['outcome_match', 'task_completion', 'tool_selection', 'composite'])
      assert.ok(message.includes(known), `${known} listed in: ${message}`);
    assert.deepEqual(r.error.issues[0]!.path, ['assertions', 0, 'dimension']);
    // The same check guards the floors, the weights and the agent's stored config.
    assert.match(
      GateConfig.safeParse({ weighting: { floors: { helpfulnes: 0.5 } } }).error!.issues[0]!.message,
      /unknown gate dimension "helpfulnes"; known dimensions: outcome_match, /,
    );
    assert.equal(AgentConfig.safeParse({ gate: { weighting: { weights: { nope: 1 } } } }).success, false);
    assert.equal(CycleInput.safeParse({ agent: 'a', gate: { thresholds: { nope: 0.5 } } }).success, false);
  });

  it('rejects thresholds outside [0, 1], k < 1, repeats of non-judge dimensions and incomplete pass rates', () => {
    const bad: [GateConfigInput, RegExp][] = [
      [{ assertions: [{ dimension: 'outcome_match', threshold: 1.5 }] }, /threshold must be between 0 and 1/],
      [{ repeats: { task_completion: 0 } }, /repeats must be ≥ 1/],
      [{ repeats: { outcome_match: 3 } }, /"outcome_match" cannot be used here; use one of tool_selection/],
      [
        { assertions: [{ dimension: 'task_completion', metric: 'pass_rate', threshold: 1 }] },
        /needs minPassRate/,
      ],
      [
        { assertions: [{ dimension: 'outcome_match', threshold: 0.5, minPassRate: 0.9 }] },
        /only applies to metric "pass_rate"/,
      ],
      [{ weighting: { weights: { composite: 1 } } }, /"composite" cannot be used here/],
      [{ bootstrap: { confidence: 1 } }, /confidence must be in \(0.5, 1\)/],
      [{ nonRegression: { minSliceExamples: 0 } }, /minSliceExamples must be ≥ 1/],
    ];
    for (const [input, message] of bad) {
      const r = GateConfig.safeParse(input);
      assert.equal(r.success, false, JSON.stringify(input));
      assert.match(r.error.issues.map((i) => i.message).join('; '), message);
    }
  });

  it("applies a cycle's override over the agent's gate, mapping the legacy fields", () => {
    const agent = config({
      weighting: { floors: { task_completion: 0.5 } },
      nonRegression: { tolerance: 0.05, minSliceExamples: 4 },
      holdout: { required: true },
    });
    assert.equal(resolveGateConfig(agent, undefined), agent);
    const legacy = resolveGateConfig(
      agent,
      GateOverride.parse({ thresholds: { outcome_match: 0.7 }, maxRegression: 0.01, minEvalExamples: 3 }),
    );
    assert.deepEqual(legacy.assertions, [{ dimension: 'outcome_match', metric: 'mean', threshold: 0.7 }]);
    assert.deepEqual(legacy.nonRegression, { tolerance: 0.01, perSlice: true, minSliceExamples: 4 });
    assert.equal(legacy.minEvalExamples, 3);
    assert.deepEqual(
      legacy.weighting.floors,
      { task_completion: 0.5 },
      'untouched sections stay the agent’s',
    );
    const partial = resolveGateConfig(
      agent,
      GateOverride.parse({ holdout: { maxDrop: 0.1 }, requireImprovement: null }),
    );
    assert.deepEqual(partial.holdout, { required: true, maxDrop: 0.1 });
    assert.equal(partial.requireImprovement, null);
    assert.equal(partial.nonRegression.tolerance, 0.05);
  });
});

describe('paired bootstrap and pass^k', () => {
  it('gives the same interval for the same seed and covers the true delta on a clear case', () => {
    // Candidate beats production on 30% more examples: the true mean delta is 0.3.
    const deltas = [...Array<number>(20).fill(1), ...Array<number>(5).fill(-1), ...Array<number>(25).fill(0)];
    const options = { resamples: 1000, confidence: 0.95, seed: 42 };
    const a = pairedBootstrap(deltas, options)!;
    assert.deepEqual(pairedBootstrap(deltas, options), a);
    assert.notDeepEqual(pairedBootstrap(deltas, { ...options, seed: 43 })!.ci, a.ci);
    assert.ok(Math.abs(a.mean - 0.3) < 1e-12);
    assert.ok(a.ci[0] < 0.3 && 0.3 < a.ci[1], `CI ${a.ci.join(', ')} covers 0.3`);
    assert.ok(a.ci[0] > 0, 'a clear gain excludes zero');
    assert.ok(a.ci[1] - a.ci[0] < 0.5);
  });

  it('covers the true delta in about 95% of repeated experiments', () => {
    // Draw per-example deltas from a known distribution (P(+1) = 0.4, P(−1) = 0.15: mean 0.25).
    const data = seedPrng(7);
    let covered = 0;
    const experiments = 200;
    for (let e = 0; e < experiments; e++) {
      const deltas = Array.from({ length: 40 }, () => {
        const u = nextFloat(data);
        return u < 0.4 ? 1 : u < 0.55 ? -1 : 0;
      });
      const { ci } = pairedBootstrap(deltas, { resamples: 500, confidence: 0.95, seed: e })!;
      if (ci[0] <= 0.25 && 0.25 <= ci[1]) covered++;
    }
    assert.ok(
      covered / experiments > 0.88 && covered / experiments <= 0.99,
      `coverage ${covered / experiments}`,
    );
  });

  it('counts pass^k as the share of examples passing every run', () => {
    const runs = [...Array.from({ length: 6 }, () => [1, 1, 1]), [1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 0]];
    assert.equal(passHatK(runs, 0.5), 0.6);
    assert.equal(passAtOne(runs, 0.5), 24 / 30);
    assert.equal(passHatK([], 0.5), null);
  });
});

describe('regression gate decision', () => {
  const seed = 11;

  it('fails a floor breach even when the composite improves', () => {
    const cfg = config({
      weighting: { weights: { outcome_match: 0.5, task_completion: 0.5 }, floors: { task_completion: 0.7 } },
    });
    // task_completion is 0.6 for both; outcome_match jumps from 0.4 to 1.
    const judged = (i: number) => (i % 10 < 6 ? 1 : 0);
    const candidate = table(20, (i) => ({ outcome_match: 1, task_completion: judged(i) }));
    const baseline = table(20, (i) => ({ outcome_match: i % 10 < 4 ? 1 : 0, task_completion: judged(i) }));
    const r = decideGate({ candidate, baseline, config: cfg, seed });
    assert.equal(r.verdict, 'fail');
    assert.equal(r.failingAssertion, 'floor:task_completion');
    assert.match(byName(r, 'floor:task_completion').detail, /0\.600 is below its floor 0\.700/);
    assert.ok(r.composite!.delta! > 0.25, 'the composite improved');
    assert.equal(byName(r, 'no_regression:composite').passed, true);
    assert.equal(byName(r, 'improves:outcome_match').passed, true);
  });

  it('fails a per-slice regression while the overall mean improves', () => {
    const adversarial = (i: number) => i < 10;
    const extra = (i: number) => ({ slices: adversarial(i) ? ['adversarial'] : ['category:billing'] });
    const candidate = table(30, (i) => ({ outcome_match: adversarial(i) ? 0 : 1 }), extra);
    const baseline = table(30, (i) => ({ outcome_match: adversarial(i) ? 1 : 0 }), extra);
    const r = decideGate({ candidate, baseline, config: config(), seed });
    assert.ok(r.candidate.outcome_match! > r.baseline.outcome_match!, 'better overall');
    assert.equal(byName(r, 'no_regression:outcome_match').passed, true);
    assert.equal(r.verdict, 'fail');
    assert.equal(r.failingAssertion, 'no_regression:outcome_match[adversarial]');
    const row = r.slices!.find((s) => s.slice === 'adversarial' && s.dimension === 'outcome_match')!;
    assert.equal(row.regressed, true);
    assert.equal(row.delta, -1);
    // With perSlice off (and the gain judged on its point mean, as below 20 examples) the
    // same tables pass: the slice is what failed them.
    const off = decideGate({
      candidate,
      baseline,
      config: config({ nonRegression: { perSlice: false }, requireImprovement: { significant: false } }),
      seed,
    });
    assert.equal(off.verdict, 'pass');
    // By default 30 examples are enough for the interval to decide, and +20/−10 is not
    // clearly a gain.
    const auto = decideGate({
      candidate,
      baseline,
      config: config({ nonRegression: { perSlice: false } }),
      seed,
    });
    assert.equal(auto.failingAssertion, 'improves:outcome_match');
  });

  it('reports small slices without gating on them', () => {
    const extra = (i: number) => ({ slices: i < 3 ? ['rare'] : [] });
    const candidate = table(20, (i) => ({ outcome_match: i < 3 ? 0 : 1 }), extra);
    const baseline = table(20, () => ({ outcome_match: 0.5 }), extra);
    const r = decideGate({ candidate, baseline, config: config(), seed });
    assert.equal(r.verdict, 'pass');
    assert.deepEqual(
      r.slices!.map((s) => [s.slice, s.examples, s.gated]),
      [
        ['rare', 3, false],
        ['rare', 3, false],
      ],
    );
  });

  it('passes noise-level deltas and fails a clear regression, reporting the CI either way', () => {
    const cfg = config({ requireImprovement: null, assertions: [] });
    const baseline = table(30, (i) => ({ outcome_match: i % 2 }));
    // Two examples got worse, one better: −0.033 on average, well within noise.
    const noisy = table(30, (i) => ({ outcome_match: i === 1 || i === 3 ? 0 : i === 0 ? 1 : i % 2 }));
    const r = decideGate({ candidate: noisy, baseline, config: cfg, seed });
    const a = byName(r, 'no_regression:outcome_match');
    assert.equal(a.passed, true);
    assert.ok(a.delta! < 0 && a.ci![0] < a.delta! && a.ci![1] >= -0.02);
    assert.match(a.detail, /Δ −0\.033 \[95% CI −0\.\d+, [+−]0\.\d+\]/);
    assert.equal(r.verdict, 'pass');
    // Ten of the fifteen passing examples now fail: the whole interval is below −0.02.
    const worse = table(30, (i) => ({ outcome_match: i % 2 === 1 && i < 20 ? 0 : i % 2 }));
    const w = decideGate({ candidate: worse, baseline, config: cfg, seed });
    assert.equal(w.failingAssertion, 'no_regression:outcome_match');
    assert.ok(w.assertions[0]!.ci![1] < -0.02);
  });

  it('computes pass^k from repeated judge runs and gates a pass-rate assertion on it', () => {
    const cfg = config({
      repeats: { task_completion: 3 },
      assertions: [
        { dimension: 'outcome_match', threshold: 0.5 },
        { dimension: 'task_completion', metric: 'pass_rate', threshold: 1, minPassRate: 0.9 },
      ],
    });
    const candRuns = (i: number) => (i < 6 ? [1, 1, 1] : i < 9 ? [1, 0, 1] : [0, 0, 0]);
    const withRuns = (runs: (i: number) => number[]) => (i: number) => ({
      runs: { task_completion: runs(i) },
    });
    const candidate = table(10, () => ({ outcome_match: 1 }), withRuns(candRuns));
    const baseline = table(
      10,
      () => ({ outcome_match: 0.8 }),
      withRuns((i) => (i < 5 ? [1, 1, 1] : [0, 1, 0])),
    );
    const r = decideGate({ candidate, baseline, config: cfg, seed });
    assert.deepEqual(r.passK, [
      {
        dimension: 'task_completion',
        k: 3,
        passAt: 0.5,
        candidate: { passK: 0.6, passAt1: 24 / 30 },
        baseline: { passK: 0.5, passAt1: 20 / 30 },
      },
    ]);
    const a = byName(r, 'pass_rate:task_completion');
    assert.equal(a.passed, false);
    assert.equal(a.value, 0.6);
    assert.match(a.detail, /on 60\.0% of cases in all 3 runs \(pass\^3\) \(need ≥ 90\.0%\)/);
    assert.equal(r.failingAssertion, 'pass_rate:task_completion');
    // The mean of a repeated dimension is the mean of its runs.
    assert.ok(Math.abs(r.candidate.task_completion! - 0.8) < 1e-12);
  });

  it('fails a candidate whose holdout score dropped, and a required holdout that is missing', () => {
    const evalCand = table(20, () => ({ outcome_match: 1 }));
    const evalBase = table(20, () => ({ outcome_match: 0.5 }));
    const holdout = (scores: (i: number) => number): ExampleScores[] =>
      Array.from({ length: 10 }, (_, i) => ({
        id: `h${i}`,
        split: 'holdout' as const,
        slices: [],
        scores: { outcome_match: scores(i) },
      }));
    const r = decideGate({
      candidate: [...evalCand, ...holdout((i) => (i < 4 ? 1 : 0))],
      baseline: [...evalBase, ...holdout((i) => (i < 7 ? 1 : 0))],
      config: config(),
      seed,
    });
    assert.equal(r.failingAssertion, 'holdout');
    assert.ok(Math.abs(r.holdout!.delta! + 0.3) < 1e-12);
    assert.equal(r.holdout!.examples, 10);
    assert.equal(byName(r, 'no_regression:outcome_match').passed, true, 'the eval split alone looks fine');
    const missing = decideGate({
      candidate: evalCand,
      baseline: evalBase,
      config: config({ holdout: { required: true } }),
      seed,
    });
    assert.equal(missing.failingAssertion, 'holdout');
    assert.match(missing.assertions[0]!.detail, /no holdout examples/);
    assert.equal(
      decideGate({ candidate: evalCand, baseline: evalBase, config: config(), seed }).holdout,
      null,
    );
  });

  it('makes judge assertions inconclusive while the judge is uncalibrated, but still fails on code', () => {
    const cfg = config({
      uncalibratedJudges: 'inconclusive',
      assertions: [
        { dimension: 'outcome_match', threshold: 0.5 },
        { dimension: 'task_completion', threshold: 0.5 },
      ],
    });
    const candidate = table(20, () => ({ outcome_match: 0.9, task_completion: 0.95 }));
    const baseline = table(20, () => ({ outcome_match: 0.6, task_completion: 0.6 }));
    assert.equal(decideGate({ candidate, baseline, config: cfg, seed }).verdict, 'pass');
    const uncalibrated = { task_completion: 'κ 0.10 below the floor 0.40' };
    const r = decideGate({ candidate, baseline, config: cfg, seed, uncalibrated });
    assert.equal(r.verdict, 'inconclusive');
    assert.equal(r.passed, false);
    assert.equal(r.failingAssertion, 'calibration:task_completion');
    for (const name of [
      'threshold:task_completion',
      'no_regression:task_completion',
      'no_regression:composite',
    ])
      assert.equal(byName(r, name).inconclusive, true, name);
    assert.equal(byName(r, 'threshold:outcome_match').passed, true, 'code assertions still decide');
    const worse = decideGate({
      candidate: table(20, () => ({ outcome_match: 0.2, task_completion: 0.95 })),
      baseline,
      config: cfg,
      seed,
      uncalibrated,
    });
    assert.equal(worse.verdict, 'fail', 'a conclusive failure still fails');
    assert.equal(worse.failingAssertion, 'threshold:outcome_match');
  });

  it('names the failing assertion first: failures, then inconclusive, then passes', () => {
    const cfg = config({
      minEvalExamples: 10,
      weighting: { floors: { outcome_match: 0.9 } },
      uncalibratedJudges: 'inconclusive',
    });
    const candidate = table(6, () => ({ outcome_match: 0.7, task_completion: 1 }));
    const baseline = table(6, () => ({ outcome_match: 0.5, task_completion: 1 }));
    const r = decideGate({
      candidate,
      baseline,
      config: cfg,
      seed,
      uncalibrated: { task_completion: 'too few labels' },
    });
    assert.equal(r.failingAssertion, 'min_eval_examples');
    assert.deepEqual(
      r.assertions.slice(0, 2).map((a) => a.name),
      ['min_eval_examples', 'floor:outcome_match'],
    );
    const rank = (a: GateReport['assertions'][number]) => (a.passed ? 2 : a.inconclusive ? 1 : 0);
    const ranks = r.assertions.map(rank);
    assert.deepEqual(ranks, [...ranks].sort(), 'failures, then inconclusive, then passes');
    assert.ok(ranks.includes(1) && ranks.includes(2));
  });

  it('is deterministic for a seed and produces a report the stored schema accepts and Markdown renders', () => {
    const extra = (i: number) => ({ slices: i % 3 === 0 ? ['adversarial'] : [] });
    const candidate = table(
      24,
      (i) => ({ outcome_match: i % 4 === 0 ? 0 : 1, task_completion: i % 5 === 0 ? 0 : 1 }),
      extra,
    );
    const baseline = table(
      24,
      (i) => ({ outcome_match: i % 2, task_completion: i % 3 === 0 ? 0 : 1 }),
      extra,
    );
    const input = {
      candidate,
      baseline,
      config: config({ nonRegression: { minSliceExamples: 5 } }),
      seed: 3,
    };
    const r = decideGate(input);
    assert.deepEqual(decideGate(input), r);
    assert.deepEqual(GateReport.parse(JSON.parse(JSON.stringify(r))), r);
    const md = renderGateReportMarkdown(r);
    assert.match(md, /^### Regression gate — passed/);
    assert.match(md, /\| adversarial \| outcome_match \| 8 \|/);
    const failed = decideGate({ ...input, config: config({ minEvalExamples: 50 }) });
    assert.match(
      renderGateReportMarkdown(failed),
      /^### Regression gate — FAILED on `min_eval_examples`\n[^]*\| FAIL \| `min_eval_examples` \| 24\.000 \| 50\.000/,
    );
  });
});

describe('the gain of a change that reaches only some examples', () => {
  // 40 eval examples; the candidate fixes ex0 and ex1 and leaves the rest exactly as they were.
  const baseline = table(40, (i) => ({ outcome_match: i < 2 ? 0 : 1 }));
  const candidate = table(40, () => ({ outcome_match: 1 }));
  const input = { candidate, baseline, config: config(), seed: 5 };

  it('is diluted below the interval over the whole split, and credited on the examples it reaches', () => {
    const whole = byName(decideGate(input), 'improves:outcome_match');
    assert.equal(whole.passed, false, `two fixes in forty cannot clear the interval: ${whole.detail}`);
    const what = 'recalled a member of the coaching set';
    const scoped = decideGate({ ...input, improvementScope: { ids: new Set(['ex0', 'ex1']), what } });
    const gain = byName(scoped, 'improves:outcome_match');
    assert.equal(gain.passed, true, gain.detail);
    assert.match(
      gain.detail,
      /^on the 2 eval examples that recalled a member of the coaching set: outcome_match 1\.000 vs production 0\.000/,
    );
    assert.equal(scoped.verdict, 'pass');
    // The interval decides even on a scope this small: one fix among three recalled examples
    // (the others unchanged) cannot be told from luck.
    const thin = decideGate({
      ...input,
      candidate: table(40, (i) => ({ outcome_match: i === 1 ? 0 : 1 })),
      improvementScope: { ids: new Set(['ex0', 'ex1', 'ex2']), what },
    });
    assert.equal(byName(thin, 'improves:outcome_match').passed, false);
    // Every other assertion still reads every example.
    assert.equal(scoped.evalExamples, 40);
  });

  it('still fails a scoped change that made its examples worse, and leaves one that reached none to the approver', () => {
    const worse = decideGate({
      ...input,
      candidate: table(40, (i) => ({ outcome_match: i < 2 ? 0 : i === 2 ? 0 : 1 })),
      improvementScope: { ids: new Set(['ex2']), what: 'recalled a member of the coaching set' },
    });
    assert.equal(byName(worse, 'improves:outcome_match').passed, false);
    const none = byName(
      decideGate({
        ...input,
        improvementScope: { ids: new Set(), what: 'recalled a member of the coaching set' },
      }),
      'improves:outcome_match',
    );
    assert.equal(none.inconclusive, true);
    assert.match(none.detail, /no eval example recalled a member of the coaching set/);
  });

  it('fails a harm concentrated where the change acts, which the whole split would dilute', () => {
    // 50 examples; the set is recalled on 3: it fixes the outcome on one and takes
    // helpfulness from 0.9 to 0 on all three.
    const base = table(50, (i) => ({ outcome_match: i === 0 ? 0 : 1, helpfulness: 0.9 }));
    const cand = table(50, (i) => ({ outcome_match: 1, helpfulness: i < 3 ? 0 : 0.9 }));
    const scope = { ids: new Set(['ex0', 'ex1', 'ex2']), what: 'recalled a member of the coaching set' };
    const args = { candidate: cand, baseline: base, config: config(), seed: 3 };
    assert.equal(byName(decideGate(args), 'no_regression:helpfulness').passed, true, 'diluted over 50');
    const r = decideGate({ ...args, improvementScope: scope });
    const harm = byName(r, 'no_regression:helpfulness');
    assert.equal(harm.passed, false, harm.detail);
    assert.match(harm.detail, /on the eval examples that recalled a member of the coaching set/);
    assert.equal(r.verdict, 'fail');
  });
});
