import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fewShotMessages } from '../../coaching/coaching-messages.js';
import { flywheelChart } from '../../bench/flywheel-chart.js';
import { agentIdOf, OPTIMIZER_OFF } from '../../bench/flywheel-seed-run.js';
import {
  behaviourOf,
  kindOf,
  oneStepKind,
  overBroadSituation,
  reviewerCoaching,
  reviewerSituation,
} from '../../bench/reviewer-coaching.js';
import type { ReviewerLabel } from '../../bench/simulated-reviewers.js';
import { SYNTHETIC_SCENARIO_FILE } from '../../bench/synthetic-scenario.js';
import { contentOf, heldOutRequests, trueSuccessDetail } from '../../bench/true-success.js';
import {
  coachedModesFixed,
  summarizeArm,
  summarizeWeek,
  type SeedWeek,
  type WeekSummary,
} from '../../bench/week-summary.js';
import { CreateCoachingRequest, type RecallMessage } from '../../schemas/coaching.js';
import { Budget, OptimizerChoice } from '../../schemas/optimizer-config.js';
import { planBudget } from '../../optimizers/budget-plan.js';
import { InProcessSimulatorClient } from '../simulator/in-process-client.js';
import { AIRLINE_SCENARIO, loadScenario, Scenario } from '../simulator/scenario.js';
import { situationApplies } from '../simulator/simulated-coaching.js';
import { generateTraffic } from '../simulator/traffic.js';

const airline = loadScenario(AIRLINE_SCENARIO);
const synthetic = loadScenario(SYNTHETIC_SCENARIO_FILE);

describe('bench:flywheel arms: the situation a reviewer writes', () => {
  for (const scenario of [airline, synthetic]) {
    it(`fits every request of its kind and no other (${scenario.name}), in the customer's words but not verbatim`, () => {
      const kinds = new Map(scenario.examples.map((e) => [kindOf(e), e]));
      assert.ok(kinds.size >= 6);
      for (const [kind, example] of kinds) {
        const situation = reviewerSituation(scenario, example);
        for (const e of scenario.examples)
          assert.equal(
            situationApplies(situation, e.request),
            kindOf(e) === kind,
            `${kind}: "${situation}" on ${e.id} (${kindOf(e)})`,
          );
        assert.ok(!scenario.examples.some((e) => situation.includes(e.request)), 'not a copy of a request');
        assert.doesNotMatch(situation, /\d|_/, 'no ids, codes or numbers');
      }
    });
  }

  it('leaves out names, codes and greetings', () => {
    const example = airline.examples.find((e) => e.rule === 'basic_economy_no_changes')!;
    const situation = reviewerSituation(airline, example);
    assert.match(situation, /^When a customer writes: .*basic economy.*move it to the flight/);
    for (const particular of ['Mia', 'Li', 'ZFA04Y', 'JFK', 'SFO', 'Hi', 'please'])
      assert.ok(!situation.split(/\s+/).includes(particular), `${particular} in "${situation}"`);
  });

  it('writes none for a kind whose requests read alike but need different steps', () => {
    const routine = synthetic.examples.filter((e) => e.rule === null);
    assert.ok(new Set(routine.map((e) => e.expected.action)).size > 1);
    assert.ok(!oneStepKind(synthetic, routine[0]!));
    assert.ok(airline.examples.every((e) => oneStepKind(airline, e)));
    const labels: ReviewerLabel[] = [
      { itemId: 'i1', verdict: 'fail', expected: routine[0]!.expected },
      {
        itemId: 'i2',
        verdict: 'fail',
        expected: synthetic.examples.find((e) => e.rule === 'rule_0')!.expected,
      },
    ];
    const lookup = {
      traceOf: (i: string) => `t-${i}`,
      exampleOf: (t: string) => (t === 't-i1' ? routine[0]!.id : 'syn-0-0'),
    };
    assert.deepEqual(
      reviewerCoaching(synthetic, labels, lookup, { errorRate: 0, seed: 1 }).map((n) => n.kind),
      ['rule:rule_0'],
    );
  });

  it('scopes a wrong one too widely: the commonest word of the request', () => {
    const booking = airline.examples.find((e) => e.rule === 'confirm_before_booking')!;
    const broad = overBroadSituation(airline, booking);
    assert.equal(broad, 'When a customer writes about flight');
    const misfires = airline.examples.filter(
      (e) => kindOf(e) !== kindOf(booking) && situationApplies(broad, e.request),
    );
    assert.ok(misfires.length > 10, `${misfires.length} requests of other kinds fall in it`);
  });
});

describe('bench:flywheel arms: coaching from the reviewers’ labels', () => {
  const refund = Scenario.parse({
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
    overBroad: [],
    distractors: ['Be kind.'],
    examples: [
      {
        id: 'r1',
        request: 'Please cancel booking A1 today.',
        rule: null,
        tags: ['routine'],
        expected: { action: 'cancel_reservation', arguments: {} },
        wrong: { action: 'respond', arguments: {} },
      },
      {
        id: 'r2',
        request: 'Please cancel booking B2 today.',
        rule: null,
        tags: ['routine', 'judge-malformed'],
        expected: { action: 'cancel_reservation', arguments: {} },
        wrong: { action: 'respond', arguments: {} },
      },
      {
        id: 'f1',
        request: 'I want a refund for my trip C3 now.',
        rule: 'refund',
        tags: [],
        expected: { action: 'transfer_to_human_agents', arguments: {} },
        wrong: { action: 'cancel_reservation', arguments: {} },
      },
      {
        id: 'f2',
        request: 'I want a refund for my trip D4 now.',
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
  const trace: Record<string, string> = { i1: 't1', i2: 't2', i3: 't3', i4: 't4', i5: 't5' };
  const example: Record<string, string> = { t1: 'f1', t2: 'f2', t3: 'r1', t4: 'r2', t5: 'f1' };
  const lookup = { traceOf: (i: string) => trace[i], exampleOf: (t: string) => example[t] };
  const transfer = { action: 'transfer_to_human_agents', arguments: {} };
  const labels: ReviewerLabel[] = [
    { itemId: 'i1', verdict: 'fail', expected: transfer },
    { itemId: 'i2', verdict: 'fail', expected: transfer },
    { itemId: 'i3', verdict: 'pass' },
    // A mistaken "fail" on a routine request that was answered right: it names another step.
    { itemId: 'i4', verdict: 'fail', expected: { action: 'respond', arguments: {} } },
  ];

  it('writes one candidate per kind of request a week, from the labelled step', () => {
    const notes = reviewerCoaching(refund, labels, lookup, { errorRate: 0, seed: 1 });
    assert.deepEqual(
      notes.map((n) => [n.kind, n.wrongBehaviour, n.overBroad]),
      [
        ['rule:refund', false, false],
        ['tags:routine', true, false],
      ],
      'the two refund failures give one coaching; the judge-only tag does not split the routine kind',
    );
    const [first, wrong] = notes;
    assert.equal(first!.request.situation, 'When a customer writes: i want a refund for my trip now');
    assert.deepEqual(first!.request.behaviour, {
      kind: 'transfer',
      reason: 'the customer needs a human agent',
    });
    assert.equal(first!.request.sourceTraceId, 't1');
    assert.equal(first!.request.candidate, true);
    assert.deepEqual(wrong!.request.behaviour, { kind: 'reply', text: 'I can help with that.' });
    for (const n of notes)
      assert.ok(CreateCoachingRequest.safeParse(n.request).success, 'the route accepts it');
  });

  it('skips kinds still waiting as candidates, and scopes too widely at the error rate', () => {
    assert.deepEqual(
      reviewerCoaching(refund, labels, lookup, { errorRate: 0, seed: 1, skip: new Set(['rule:refund']) }).map(
        (n) => n.kind,
      ),
      ['tags:routine'],
    );
    const broad = reviewerCoaching(refund, labels, lookup, { errorRate: 1, seed: 1 });
    assert.ok(
      broad.every((n) => n.overBroad && /^When a customer writes about \w+$/.test(n.request.situation)),
    );
  });

  it('shows each kind of step as coaching create takes it', () => {
    assert.deepEqual(
      behaviourOf(airline, { action: 'respond', arguments: {}, content: 'It cannot be changed.' }),
      {
        kind: 'reply',
        text: 'It cannot be changed.',
      },
    );
    assert.deepEqual(behaviourOf(airline, { action: 'get_user_details', arguments: { user_id: 'x' } }), {
      kind: 'tool_call',
      tool: 'get_user_details',
      arguments: { user_id: 'x' },
    });
    assert.deepEqual(
      behaviourOf(airline, { action: 'transfer_to_human_agents', arguments: { summary: 'damaged bag' } }),
      { kind: 'transfer', reason: 'damaged bag' },
    );
  });

  it('scores the held-out set with the coaching production recalls, per slice', async () => {
    const agent = new InProcessSimulatorClient(refund, 'sim-agent');
    const heldOut = heldOutRequests(refund, 200);
    const content = contentOf(refund, { text: refund.basePrompt });
    const plain = await trueSuccessDetail(agent, content, heldOut);
    assert.deepEqual(plain.byRule, { refund: 0 });
    assert.equal(plain.routine, 1);
    assert.equal(plain.coached, 0);
    const [note] = reviewerCoaching(refund, labels, lookup, { errorRate: 0, seed: 1 });
    // A recall that serves the refund coaching to refund requests, as the index would.
    const messages = fewShotMessages([
      { situation: note!.request.situation, example: null, behaviour: note!.request.behaviour },
    ]);
    const recalled: RecallMessage[] = [];
    const coaching = {
      size: 1,
      recall: (m: readonly RecallMessage[]) => {
        recalled.push(...m);
        return Promise.resolve({ messages: /refund/.test(m.at(-1)!.content ?? '') ? messages : [] });
      },
    };
    const coached = await trueSuccessDetail(agent, content, heldOut, coaching);
    assert.deepEqual(coached.byRule, { refund: 1 });
    assert.equal(coached.routine, 1);
    assert.equal(coached.overall, 1);
    assert.equal(coached.coached, heldOut.filter((r) => r.rule === 'refund').length);
    assert.equal(recalled.length, heldOut.length, 'every conversation recalls');
  });

  it('recalls for every conversation of the traffic, inserts it and names it on the trace', async () => {
    const agent = new InProcessSimulatorClient(refund, 'sim-agent');
    const [note] = reviewerCoaching(refund, labels, lookup, { errorRate: 0, seed: 1 });
    const messages = fewShotMessages([
      { situation: note!.request.situation, example: null, behaviour: note!.request.behaviour },
    ]);
    const seen: (string | undefined)[] = [];
    const records = await generateTraffic({
      scenario: refund,
      agent,
      resolve: () => Promise.resolve({ version: 2, text: refund.basePrompt, promptVersionId: 'pv-2' }),
      count: 40,
      start: new Date(0),
      spacingMs: 1,
      seed: 5,
      idPrefix: 't',
      coach: (conversation, served) => {
        seen.push(served.promptVersionId);
        const hit = /refund/.test(conversation.at(-1)!.content);
        return Promise.resolve({
          fewShot: hit ? messages : [],
          attributes: hit ? { 'flywheel.coaching.ids': ['coa_1@1'] } : {},
        });
      },
    });
    assert.equal(seen.length, 40);
    assert.ok(
      seen.every((id) => id === 'pv-2'),
      'recall is told the served version',
    );
    for (const r of records) {
      const refundRequest = r.attributes.example === 'f1' || r.attributes.example === 'f2';
      assert.equal(
        (r.output as { action: string }).action,
        refundRequest ? 'transfer_to_human_agents' : 'cancel_reservation',
      );
      assert.deepEqual(r.attributes['flywheel.coaching.ids'], refundRequest ? ['coa_1@1'] : undefined);
    }
  });
});

describe('bench:flywheel arms: summaries', () => {
  const week = (trueSuccess: number, over: Partial<SeedWeek> = {}): SeedWeek => ({
    trueSuccess,
    outcome: 'released',
    released: true,
    rolledBack: false,
    falseRollback: false,
    trueRollback: false,
    falseRelease: false,
    regressionShipped: false,
    loopTimeSeconds: 10,
    wallSeconds: 10,
    llm: {},
    ...over,
  });
  const coaching = (created: number, active: number) => ({
    created,
    gated: created,
    promoted: created,
    retired: 0,
    active,
    candidates: 0,
  });

  it('sums coaching over seeds, takes routine and per-mode medians, counts fixed modes', () => {
    const s = summarizeWeek(
      1,
      [
        week(0.8, { routineTrueSuccess: 0.9, trueSuccessByRule: { a: 1, b: 0.5 }, coaching: coaching(3, 3) }),
        week(0.7, {
          routineTrueSuccess: 0.7,
          trueSuccessByRule: { a: 0.95, b: 0 },
          coaching: coaching(2, 2),
        }),
        week(0.9, {
          routineTrueSuccess: 0.8,
          trueSuccessByRule: { a: 0.2, b: 0.95 },
          coaching: coaching(1, 5),
        }),
      ],
      1,
    );
    assert.equal(s.routineTrueSuccessMedian, 0.8);
    assert.deepEqual(s.trueSuccessByRuleMedian, { a: 0.95, b: 0.5 });
    assert.equal(s.modesFixedMedian, 1);
    assert.deepEqual(s.coaching, { created: 6, gated: 6, promoted: 6, retired: 0, active: 3, candidates: 0 });
  });

  it('reads records from before arms: no routine figure, no coaching', () => {
    const s = summarizeWeek(1, [week(0.5)], 1);
    assert.equal(s.routineTrueSuccessMedian, null);
    assert.equal(s.modesFixedMedian, null);
    assert.deepEqual(s.coaching, { created: 0, gated: 0, promoted: 0, retired: 0, active: 0, candidates: 0 });
  });

  it('finds the week an arm reaches oracle level, per seed too, and routine regressions', () => {
    const seeds = [
      { baselineRoutine: 0.98, weeks: [0.7, 0.97, 0.99].map((t, i) => ({ week: i + 1, trueSuccess: t })) },
      { baselineRoutine: 0.98, weeks: [0.99, 0.99, 0.99].map((t, i) => ({ week: i + 1, trueSuccess: t })) },
      { baselineRoutine: 0.97, weeks: [0.6, 0.6, 0.6].map((t, i) => ({ week: i + 1, trueSuccess: t })) },
    ];
    const weeks: WeekSummary[] = [1, 2, 3].map((w) =>
      summarizeWeek(
        w,
        seeds.map((s) =>
          week(s.weeks[w - 1]!.trueSuccess, {
            routineTrueSuccess: w === 2 ? 0.9 : 0.98,
            coaching: coaching(1, w),
          }),
        ),
        1,
      ),
    );
    const a = summarizeArm(weeks, seeds, 1, 0.01);
    assert.equal(a.weeksToOracleLevel, 3, 'median 0.7, 0.97, then 0.99 ≥ 98 % of 1');
    assert.deepEqual(a.seedWeeksToOracleLevel, [3, 1, null]);
    assert.equal(a.routineBaseline, 0.98);
    assert.equal(a.routineLowestMedian, 0.9);
    assert.deepEqual(a.routineRegressionWeeks, [2]);
    assert.equal(a.routineRegressionSeeds, 0, 'the seeds carry no routine figure of their own here');
    const own = summarizeArm(
      weeks,
      [
        { baselineRoutine: 0.98, weeks: [{ week: 1, trueSuccess: 0.9, routineTrueSuccess: 0.75 }] },
        { baselineRoutine: 0.98, weeks: [{ week: 1, trueSuccess: 0.9, routineTrueSuccess: 0.975 }] },
      ],
      1,
      0.01,
    );
    assert.equal(
      own.routineRegressionSeeds,
      1,
      'a seed down 23 points regressed; one down half a point did not',
    );
    assert.equal(a.releases, 9);
    assert.deepEqual(a.coaching, {
      created: 9,
      gated: 9,
      promoted: 9,
      retired: 0,
      activeAtEnd: 3,
      candidatesAtEnd: 0,
    });
  });

  it('counts the failure modes coached in week 1 that production fixed by its end', () => {
    const w = (byRule: Record<string, number>, written: [string, boolean][]) => ({
      weeks: [
        {
          week: 1,
          trueSuccessByRule: byRule,
          coachingWritten: written.map(([kind, right]) => ({
            kind,
            wrongBehaviour: !right,
            overBroad: false,
          })),
        },
      ],
    });
    assert.deepEqual(
      coachedModesFixed([
        w({ a: 1, b: 0.2 }, [
          ['rule:a', true],
          ['rule:b', false],
          ['tags:routine', true],
        ]),
        w({ a: 0.5 }, [['rule:a', true]]),
      ]),
      { coached: 3, fixed: 1, coachedRight: 2, fixedRight: 1 },
    );
  });

  it('draws one oracle per scenario when its arms share a chart', () => {
    const points = [{ week: 0, median: 0.5, q25: 0.5, q75: 0.5 }];
    const svg = flywheelChart(
      [
        { name: 'airline · prompt', oracle: 0.98, points },
        { name: 'airline · both', oracle: 0.98, showOracle: false, points },
      ],
      't',
    );
    assert.equal((svg.match(/oracle 98\.0%/g) ?? []).length, 1);
    assert.match(svg, /airline · both median/);
  });

  it('keeps the prompt arm’s agent ids, and turns the optimizer off with a budget that buys nothing', () => {
    assert.equal(agentIdOf('airline', 'prompt', 2), 'airline-s2');
    assert.equal(agentIdOf('synthetic 12', 'both', 1), 'synthetic-12-both-s1');
    const plan = planBudget(OptimizerChoice.parse({ name: 'gepa' }), Budget.parse(OPTIMIZER_OFF), {
      trainSize: 40,
      components: 1,
    });
    assert.equal(plan.proposals, 0);
    assert.match(plan.warnings.join('\n'), /Small budget/);
  });
});
