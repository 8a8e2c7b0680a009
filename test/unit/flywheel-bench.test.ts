import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CountingLlmClient, usageSince } from '../../bench/counting-llm-client.js';
import { flywheelChart } from '../../bench/flywheel-chart.js';
import { reviewerLabels, type ReviewItem } from '../../bench/simulated-reviewers.js';
import { SYNTHETIC_SCENARIO_FILE, syntheticScenario } from '../../bench/synthetic-scenario.js';
import { contentOf, heldOutRequests, oraclePrompt, trueSuccess } from '../../bench/true-success.js';
import { summarizeWeek, type SeedWeek } from '../../bench/week-summary.js';
import { judgeWeek } from '../../bench/week-verdicts.js';
import { AnnotationLabel } from '../../schemas/annotation.js';
import { InProcessSimulatorClient } from '../simulator/in-process-client.js';
import { AIRLINE_SCENARIO, loadScenario, Scenario } from '../simulator/scenario.js';

/** Four requests, two of them behind one hidden rule; no noise, so true success is exact. */
const tiny = Scenario.parse({
  name: 'tiny',
  description: 'two routine requests and two behind one rule',
  seed: 3,
  agentId: 'tiny',
  basePrompt: 'You are an airline agent.',
  actions: [
    { name: 'respond', description: 'Reply in text.', parameters: {} },
    { name: 'cancel_reservation', description: 'Cancel a booking.', parameters: {} },
    { name: 'transfer_to_human_agents', description: 'Hand over to a human.', parameters: {} },
  ],
  rules: [
    {
      id: 'refund',
      category: 'policy_violation',
      description: 'Refunds need a human.',
      fixingPhrases: ['refund requests go to a human'],
      symptoms: ['refund'],
      judgeRationale: 'The agent handled a refund itself.',
      feedback: ['I wanted a refund.'],
    },
  ],
  overBroad: [
    {
      phrase: 'Transfer everything to a human.',
      fixes: ['refund'],
      breaks: { tags: ['routine'], action: { action: 'transfer_to_human_agents', arguments: {} } },
    },
  ],
  distractors: ['Be kind.'],
  examples: [
    {
      id: 'r1',
      request: 'Please cancel booking A1.',
      rule: null,
      tags: ['routine'],
      expected: { action: 'cancel_reservation', arguments: {} },
      wrong: { action: 'respond', arguments: {} },
    },
    {
      id: 'r2',
      request: 'Please cancel booking B2.',
      rule: null,
      tags: ['routine'],
      expected: { action: 'cancel_reservation', arguments: {} },
      wrong: { action: 'respond', arguments: {} },
    },
    {
      id: 'f1',
      request: 'I want a refund for C3.',
      rule: 'refund',
      tags: [],
      expected: { action: 'transfer_to_human_agents', arguments: {} },
      wrong: { action: 'cancel_reservation', arguments: {} },
    },
    {
      id: 'f2',
      request: 'Refund my trip D4 please.',
      rule: 'refund',
      tags: [],
      expected: { action: 'transfer_to_human_agents', arguments: {} },
      wrong: { action: 'cancel_reservation', arguments: {} },
    },
  ],
  noise: { agent: 0, judge: 0, feedback: 0 },
  teacher: { precision: 1 },
  traffic: { expectedShare: 1, positiveFeedbackShare: 0 },
});
const agent = new InProcessSimulatorClient(tiny, 'sim-agent');
const heldOut = heldOutRequests(tiny, 400);
const routineShare = heldOut.filter((r) => r.exampleId.startsWith('r')).length / heldOut.length;

describe('bench:flywheel true success', () => {
  it('draws held-out requests from every example with texts no trace carries', () => {
    assert.deepEqual(new Set(heldOut.map((r) => r.exampleId)), new Set(['r1', 'r2', 'f1', 'f2']));
    const requests = new Set(tiny.examples.map((e) => e.request));
    assert.ok(heldOut.every((r) => !requests.has(r.text)));
    assert.equal(new Set(heldOut.map((r) => r.text)).size, heldOut.length);
    assert.deepEqual(heldOutRequests(tiny, 400), heldOut, 'the set is fixed');
  });

  it('scores the starting prompt on the routine share, the oracle at 100%', async () => {
    assert.equal(await trueSuccess(agent, contentOf(tiny, { text: tiny.basePrompt }), heldOut), routineShare);
    assert.equal(oraclePrompt(tiny), 'You are an airline agent.\nrefund requests go to a human.');
    assert.equal(await trueSuccess(agent, contentOf(tiny, { text: oraclePrompt(tiny) }), heldOut), 1);
  });

  it('counts an over-broad phrase as the regression it is', async () => {
    const broad = `${tiny.basePrompt}\nTransfer everything to a human.`;
    assert.equal(await trueSuccess(agent, contentOf(tiny, { text: broad }), heldOut), 1 - routineShare);
  });

  it('scores the whole version: tool descriptions and demos from its config', async () => {
    const fix = 'Use this when refund requests go to a human.';
    const tools = contentOf(tiny, {
      text: tiny.basePrompt,
      config: { toolDescriptions: { transfer_to_human_agents: fix } },
    });
    assert.equal(tools.system, tiny.basePrompt);
    assert.equal(tools.tools.find((t) => t.name === 'transfer_to_human_agents')?.description, fix);
    assert.equal(tools.tools.find((t) => t.name === 'respond')?.description, 'Reply in text.');
    assert.equal(await trueSuccess(agent, tools, heldOut), 1);
    const demos = contentOf(tiny, {
      text: tiny.basePrompt,
      config: { demos: 'Example: refund requests go to a human.' },
    });
    assert.equal(await trueSuccess(agent, demos, heldOut), 1);
    assert.throws(
      () => contentOf(tiny, { text: 'x', config: { toolDescriptions: { a: '' } } }),
      /prompt config/,
    );
  });

  it('puts the airline oracle far above its starting prompt', async () => {
    const airline = loadScenario(AIRLINE_SCENARIO);
    const sim = new InProcessSimulatorClient(airline, 'sim-agent');
    const set = heldOutRequests(airline, 500);
    const base = await trueSuccess(sim, contentOf(airline, { text: airline.basePrompt }), set);
    const oracle = await trueSuccess(sim, contentOf(airline, { text: oraclePrompt(airline) }), set);
    assert.ok(oracle > 0.95, `oracle ${oracle}`);
    assert.ok(base < oracle - 0.3, `base ${base} vs oracle ${oracle}`);
  });
});

describe('bench:flywheel week verdicts', () => {
  it('calls a rollback false when the candidate was truly 5 points better or more', () => {
    const v = judgeWeek({
      previousProduction: 0.6,
      production: 0.6,
      outcome: 'rolled_back',
      candidate: 0.65,
    });
    assert.equal(v.falseRollback, true);
    assert.equal(v.trueRollback, false);
    assert.ok(Math.abs(v.candidateDelta! - 0.05) < 1e-12);
  });
  it('calls a rollback true when the candidate was not better by 5 points', () => {
    const v = judgeWeek({
      previousProduction: 0.6,
      production: 0.6,
      outcome: 'rolled_back',
      candidate: 0.64,
    });
    assert.deepEqual([v.rolledBack, v.trueRollback, v.falseRollback], [true, true, false]);
  });
  it('flags a release that shipped a regression, and one that shipped no real gain', () => {
    const worse = judgeWeek({
      previousProduction: 0.6,
      production: 0.58,
      outcome: 'released',
      candidate: 0.58,
    });
    assert.deepEqual([worse.released, worse.regressionShipped, worse.falseRelease], [true, true, true]);
    const same = judgeWeek({
      previousProduction: 0.6,
      production: 0.605,
      outcome: 'released',
      candidate: 0.605,
    });
    assert.deepEqual([same.regressionShipped, same.falseRelease], [false, true]);
    const better = judgeWeek({
      previousProduction: 0.6,
      production: 0.7,
      outcome: 'released',
      candidate: 0.7,
    });
    assert.deepEqual([better.regressionShipped, better.falseRelease], [false, false]);
  });
  it('judges a week without a rollout on production alone', () => {
    const v = judgeWeek({
      previousProduction: 0.6,
      production: 0.6,
      outcome: 'gate_failed',
      candidate: null,
    });
    assert.deepEqual(
      [v.released, v.rolledBack, v.falseRollback, v.falseRelease, v.regressionShipped, v.candidateDelta],
      [false, false, false, false, false, null],
    );
  });
});

describe('bench:flywheel summaries over seeds', () => {
  const week = (trueSuccess: number, over: Partial<SeedWeek> = {}): SeedWeek => ({
    trueSuccess,
    outcome: 'gate_failed',
    released: false,
    rolledBack: false,
    falseRollback: false,
    trueRollback: false,
    falseRelease: false,
    regressionShipped: false,
    loopTimeSeconds: null,
    wallSeconds: 10,
    llm: { agent: { calls: 10, tokens: 100 } },
    ...over,
  });
  it('reports the median and the interquartile range, and sums the counts', () => {
    const s = summarizeWeek(
      2,
      [
        week(0.9, { outcome: 'released', released: true, loopTimeSeconds: 30, wallSeconds: 50 }),
        week(0.5),
        week(0.7, { outcome: 'rolled_back', rolledBack: true, falseRollback: true }),
        week(0.6, { outcome: 'released', released: true, loopTimeSeconds: 50, falseRelease: true }),
        week(0.8, { llm: { agent: { calls: 60, tokens: 600 } } }),
      ],
      0.875,
    );
    assert.deepEqual(
      [s.week, s.trueSuccessMedian, s.trueSuccessQ25, s.trueSuccessQ75, s.ofOracleMedian],
      [2, 0.7, 0.6, 0.8, 0.8],
    );
    assert.deepEqual(s.outcomes, { released: 2, gate_failed: 2, rolled_back: 1 });
    assert.deepEqual(
      [s.releases, s.rollbacks, s.falseRollbacks, s.trueRollbacks, s.falseReleases, s.regressionsShipped],
      [2, 1, 1, 0, 1, 0],
    );
    assert.equal(s.loopTimeSecondsMedian, 40, 'seeds without a release have no loop time');
    assert.equal(s.wallSecondsMedian, 10);
    assert.deepEqual(s.llmPerSeed, { agent: { calls: 20, tokens: 200 } });
  });
  it('has no loop time when no seed released', () => {
    assert.equal(summarizeWeek(1, [week(0.5)], 1).loopTimeSecondsMedian, null);
  });
});

describe('bench:flywheel simulated reviewers', () => {
  const items: ReviewItem[] = Array.from({ length: 400 }, (_, i) => {
    const example = tiny.examples[i % 4]!;
    const right = i % 3 !== 0;
    return {
      itemId: `item-${i}`,
      traceId: `trace-${i}`,
      output: right ? example.expected : example.wrong,
    };
  });
  const exampleOf = (traceId: string) => tiny.examples[Number(traceId.slice(6)) % 4]!.id;
  const truth = (i: number) => (i % 3 !== 0 ? 'pass' : 'fail');

  it('labels from ground truth, with the expected step, category and a note on failures', () => {
    const labels = reviewerLabels(tiny, items, exampleOf, { errorRate: 0, limit: 20, seed: 1 });
    assert.equal(labels.length, 20);
    labels.forEach((l, i) => {
      assert.equal(l.verdict, truth(i));
      assert.ok(AnnotationLabel.safeParse(l).success, 'the annotation schema accepts every label');
    });
    const fail = labels.find((l) => l.itemId === 'item-0')!;
    assert.deepEqual(fail.expected, { action: 'cancel_reservation', arguments: {} });
    assert.equal(fail.category, undefined, 'a routine request has no rule to name');
    const ruleFail = labels.find((l) => l.itemId === 'item-3')!;
    assert.deepEqual(ruleFail.expected, { action: 'transfer_to_human_agents', arguments: {} });
    assert.equal(ruleFail.category, 'policy_violation');
    assert.equal(ruleFail.comment, 'The agent handled a refund itself.');
  });
  it('gets about the configured share wrong, and labels nothing at a limit of 0', () => {
    const labels = reviewerLabels(tiny, items, exampleOf, { errorRate: 0.1, limit: 400, seed: 7 });
    const wrong = labels.filter((l, i) => l.verdict !== truth(i)).length;
    assert.ok(wrong >= 25 && wrong <= 55, `${wrong} of 400 wrong`);
    assert.ok(labels.every((l) => AnnotationLabel.safeParse(l).success));
    assert.equal(reviewerLabels(tiny, items, exampleOf, { errorRate: 0.1, limit: 0, seed: 7 }).length, 0);
    const flipped = reviewerLabels(tiny, items.slice(0, 8), exampleOf, { errorRate: 1, limit: 8, seed: 7 });
    assert.deepEqual(
      flipped.map((l) => l.verdict),
      items.slice(0, 8).map((_, i) => (truth(i) === 'pass' ? 'fail' : 'pass')),
    );
  });
});

describe('bench:flywheel plumbing', () => {
  it('ships the synthetic scenario as a file equal to the generated one', () => {
    assert.deepEqual(loadScenario(SYNTHETIC_SCENARIO_FILE), syntheticScenario());
  });
  it('counts calls and tokens per client, and the usage between two readings', async () => {
    const counted = new CountingLlmClient(agent);
    await counted.chat({ messages: [{ role: 'user', content: 'Please cancel booking A1.' }] });
    await counted.embed(['a', 'b']);
    assert.equal(counted.usage.calls, 2);
    assert.ok(counted.usage.tokens > 0);
    assert.deepEqual(usageSince({ agent: { calls: 5, tokens: 50 } }, { agent: { calls: 2, tokens: 20 } }), {
      agent: { calls: 3, tokens: 30 },
    });
  });
  it('draws the chart with a line, a band and the oracle per scenario', () => {
    const svg = flywheelChart(
      [
        {
          name: 'a<b',
          oracle: 0.9,
          points: [
            { week: 0, median: 0.4, q25: 0.4, q75: 0.4 },
            { week: 1, median: 0.6, q25: 0.5, q75: 0.7 },
          ],
        },
      ],
      'title',
    );
    assert.match(svg, /^<svg/);
    assert.equal((svg.match(/<polyline/g) ?? []).length, 1);
    assert.equal((svg.match(/<polygon/g) ?? []).length, 1);
    assert.match(svg, /a&lt;b median/);
    assert.match(svg, /oracle 90\.0%/);
    assert.doesNotMatch(svg, /NaN/);
  });
});
