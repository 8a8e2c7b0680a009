import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { agentActions } from '../../evaluation/agent-trajectory.js';
import {
  CODE_DECIDABLE_DIMENSIONS,
  CODE_EVALUATORS,
  runCodeEvaluators,
} from '../../evaluation/code-evaluators.js';
import { diffGoldActions, expectedStepMatch, goldActionDiff } from '../../evaluation/gold-action-diff.js';
import { tauBenchToTraces } from '../../traces/tau-bench-import.js';
import { textAssertions } from '../../evaluation/text-assertions.js';
import { costThreshold, latencyThreshold } from '../../evaluation/threshold-checks.js';
import { toolArgumentValidity, type Tool } from '../../evaluation/tool-argument-validity.js';
import { toolPreconditions } from '../../evaluation/tool-preconditions.js';
import {
  CodeEvaluatorConfig,
  GoldActionDiffConfig,
  TextAssertion,
  type TextAssertionInput,
} from '../../schemas/code-evaluator-config.js';
import { Evaluation } from '../../schemas/evaluation.js';
import { TraceRecord, type AgentAction, type TraceRecordInput } from '../../schemas/trace.js';
import { sharedDataset } from '../../scripts/shared-datasets.js';

const T0 = Date.parse('2024-05-15T15:00:00Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

interface Call {
  name: string;
  args?: Record<string, unknown>;
  error?: string;
  latencyMs?: number;
}

/** A trace whose tool spans are the given calls, one second apart, ending on a reply. */
function traceOf(calls: readonly Call[], extra: Partial<TraceRecordInput> = {}): TraceRecord {
  return TraceRecord.parse({
    id: 'trace-1',
    agent: 'airline',
    timestamp: iso(0),
    input: { messages: [{ role: 'user', content: 'Please help with my reservation.' }] },
    output: { action: 'respond', arguments: {}, content: 'Your reservation has been updated.' },
    spans: calls.map((c, i) => ({
      spanId: `span-${i}`,
      name: c.name,
      kind: 'tool',
      startTime: iso(i * 1000),
      endTime: iso(i * 1000 + (c.latencyMs ?? 100)),
      latencyMs: c.latencyMs ?? 100,
      status: c.error ? 'error' : 'ok',
      ...(c.error ? { statusMessage: c.error } : {}),
      tool: { name: c.name, arguments: c.args ?? {}, result: c.error ?? '{}' },
    })),
    ...extra,
  });
}

const gold = (action: string, args: Record<string, unknown> = {}): AgentAction => ({
  action,
  arguments: args,
});
const diffConfig = GoldActionDiffConfig.parse({});

function kinds(e: Evaluation | null): string[] {
  assert.ok(e, 'the evaluator spoke');
  return e.findings.map((f) => f.kind);
}

const booking = {
  user_id: 'mia_li_3668',
  flights: [
    { flight_number: 'HAT136', date: '2024-05-20' },
    { flight_number: 'HAT039', date: '2024-05-20' },
  ],
  passengers: [
    { first_name: 'Mia', last_name: 'Li', dob: '1990-04-05' },
    { first_name: 'Ana', last_name: 'Li', dob: '1992-01-01' },
  ],
  payment_methods: [
    { payment_id: 'certificate_7504069', amount: 250 },
    { payment_id: 'credit_card_4421486', amount: 5 },
  ],
  total_baggages: 3,
  insurance: 'no',
};

describe('agentActions', () => {
  it('lists tool spans in time order with their failures, then the final reply', () => {
    const trace = traceOf([
      { name: 'get_user_details', args: { user_id: 'u1' } },
      { name: 'book_reservation', args: { user_id: 'u1' }, error: 'Error: not enough seats' },
    ]);
    assert.deepEqual(agentActions(trace), [
      { step: 0, action: 'get_user_details', arguments: { user_id: 'u1' }, spanId: 'span-0' },
      {
        step: 1,
        action: 'book_reservation',
        arguments: { user_id: 'u1' },
        spanId: 'span-1',
        error: 'Error: not enough seats',
      },
      { step: 2, action: 'respond', arguments: {}, content: 'Your reservation has been updated.' },
    ]);
  });

  it('reads the conversation when there are no tool spans, keeping every parallel call of the last step', () => {
    const trace = TraceRecord.parse({
      id: 'chat-1',
      agent: 'airline',
      timestamp: iso(0),
      input: {
        messages: [
          { role: 'user', content: 'Cancel both.' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ name: 'get_user_details', arguments: { user_id: 'u1' } }],
          },
          { role: 'tool', content: '{}' },
        ],
      },
      output: { action: 'cancel_reservation', arguments: { reservation_id: 'A' } },
      spans: [
        {
          spanId: 'llm-0',
          kind: 'llm',
          startTime: iso(0),
          endTime: iso(0),
          latencyMs: 0,
          outputMessages: [
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                { name: 'cancel_reservation', arguments: { reservation_id: 'A' } },
                { name: 'cancel_reservation', arguments: { reservation_id: 'B' } },
              ],
            },
          ],
        },
      ],
    });
    assert.deepEqual(
      agentActions(trace).map((s) => [s.step, s.action, s.arguments]),
      [
        [0, 'get_user_details', { user_id: 'u1' }],
        [1, 'cancel_reservation', { reservation_id: 'A' }],
        [2, 'cancel_reservation', { reservation_id: 'B' }],
      ],
    );
  });
});

describe('gold action diff', () => {
  it('is silent on a trace without a gold action list', () => {
    assert.equal(goldActionDiff(traceOf([{ name: 'cancel_reservation' }]), diffConfig), null);
  });

  it('passes equal actions whatever their number format, key order, casing or set order', () => {
    const trace = traceOf([
      { name: 'get_user_details', args: { user_id: 'mia_li_3668' } },
      {
        name: 'book_reservation',
        args: {
          insurance: ' No ',
          total_baggages: '3',
          payment_methods: [
            { amount: '5', payment_id: 'credit_card_4421486' },
            { payment_id: 'certificate_7504069', amount: 250.0 },
          ],
          passengers: [...booking.passengers].reverse(),
          // Agents add keys the gold does not name (tau-bench task 5 trial 1 passes so).
          flights: booking.flights.map((f) => ({ ...f, origin: 'JFK' })),
          user_id: 'MIA_LI_3668',
        },
      },
    ]);
    const e = goldActionDiff(
      { ...trace, expectedActions: [gold('get_user_details'), gold('book_reservation', booking)] },
      diffConfig,
    );
    assert.deepEqual(kinds(e), []);
    assert.equal(e!.label, 'pass');
    assert.equal(e!.score, 1);
    assert.equal(e!.category, null);
    assert.equal(e!.dimension, 'task_completion');
    assert.equal(e!.source, 'code');
  });

  it('treats flight legs as an ordered list: swapped legs are wrong arguments', () => {
    const trace = traceOf([
      { name: 'book_reservation', args: { ...booking, flights: [...booking.flights].reverse() } },
    ]);
    const e = goldActionDiff({ ...trace, expectedActions: [gold('book_reservation', booking)] }, diffConfig);
    assert.deepEqual(kinds(e), ['wrong_arguments']);
    assert.match(
      e!.findings[0]!.detail,
      /^gold action #0 book_reservation: flights expected .*HAT136.*, got .*HAT039/,
    );
  });

  it('names each differing key with both values, pointing at the step and span', () => {
    const trace = traceOf([
      { name: 'get_reservation_details', args: { reservation_id: 'FQ8APE' } },
      {
        name: 'update_reservation_baggages',
        args: {
          reservation_id: 'FQ8APE',
          total_baggages: 3,
          nonfree_baggages: 1,
          payment_id: 'credit_card_7407366',
        },
      },
    ]);
    const expected = gold('update_reservation_baggages', {
      reservation_id: 'FQ8APE',
      total_baggages: 3,
      nonfree_baggages: 0,
      payment_id: 'gift_card_8190333',
    });
    const e = goldActionDiff({ ...trace, expectedActions: [expected] }, diffConfig)!;
    assert.deepEqual(e.findings, [
      {
        kind: 'wrong_arguments',
        step: 1,
        spanId: 'span-1',
        detail:
          'gold action #0 update_reservation_baggages: nonfree_baggages expected 0, got 1; payment_id expected "gift_card_8190333", got "credit_card_7407366"',
      },
    ]);
    assert.equal(e.score, 0);
    assert.equal(e.category, 'wrong_arguments');
  });

  it('reports a different state-changing call in the place of a gold action as wrong_tool, the rest as missing', () => {
    // tau-bench task 4: the agent upgraded, then transferred instead of changing the passenger.
    const trace = traceOf([
      { name: 'update_reservation_flights', args: { reservation_id: 'FQ8APE' } },
      { name: 'transfer_to_human_agents', args: { summary: 'wants a passenger change' } },
    ]);
    const expectedActions = [
      gold('update_reservation_flights', { reservation_id: 'FQ8APE' }),
      gold('update_reservation_passengers', { reservation_id: 'FQ8APE' }),
      gold('update_reservation_baggages', { reservation_id: 'FQ8APE' }),
    ];
    const e = goldActionDiff({ ...trace, expectedActions }, diffConfig)!;
    assert.deepEqual(
      e.findings.map((f) => [f.kind, f.step]),
      [
        ['wrong_tool', 1],
        ['missing_action', null],
      ],
    );
    assert.match(
      e.findings[0]!.detail,
      /gold action #1 is update_reservation_passengers .* the agent called transfer_to_human_agents/,
    );
    assert.match(e.findings[1]!.detail, /gold action #2 update_reservation_baggages .* was never made/);
    assert.equal(e.category, 'wrong_tool');
    assert.equal(e.score, 1 / 3);
  });

  it('reports a state-changing call the gold lacks as extra, but never a read or a failed call', () => {
    const trace = traceOf([
      { name: 'get_reservation_details', args: { reservation_id: 'NQNU5R' } },
      { name: 'cancel_reservation', args: { reservation_id: 'IFOYYZ' } },
      { name: 'cancel_reservation', args: { reservation_id: 'NQNU5R' } },
      { name: 'send_certificate', args: { amount: 100 }, error: 'Error: not allowed' },
      { name: 'think', args: { thought: 'done' } },
    ]);
    const e = goldActionDiff(
      { ...trace, expectedActions: [gold('cancel_reservation', { reservation_id: 'NQNU5R' })] },
      diffConfig,
    )!;
    assert.deepEqual(
      e.findings.map((f) => [f.kind, f.step]),
      [['extra_action', 1]],
    );
    // One matched gold action over one gold action plus one extra call.
    assert.equal(e.score, 0.5);
    assert.equal(e.category, 'extra_action');
  });

  it('does not require the gold order: the same actions in another order pass', () => {
    const trace = traceOf([
      { name: 'update_reservation_passengers', args: { reservation_id: 'R' } },
      { name: 'update_reservation_flights', args: { reservation_id: 'R' } },
    ]);
    const expectedActions = [
      gold('update_reservation_flights', { reservation_id: 'R' }),
      gold('update_reservation_passengers', { reservation_id: 'R' }),
    ];
    assert.deepEqual(kinds(goldActionDiff({ ...trace, expectedActions }, diffConfig)), []);
  });

  it('pairs each gold action with the call that fits it best, so two calls of one tool are told apart', () => {
    // tau-bench task 22: two gold updates, the agent made only the second.
    const trace = traceOf([
      { name: 'update_reservation_flights', args: { reservation_id: 'OWZ4XL', flights: ['HAT041'] } },
    ]);
    const expectedActions = [
      gold('update_reservation_flights', { reservation_id: 'OWZ4XL', flights: ['HAT202', 'HAT232'] }),
      gold('update_reservation_flights', { reservation_id: 'OWZ4XL', flights: ['HAT041'] }),
    ];
    const e = goldActionDiff({ ...trace, expectedActions }, diffConfig)!;
    assert.deepEqual(kinds(e), ['missing_action']);
    assert.match(e.findings[0]!.detail, /^gold action #0 /);
  });

  it('judges the call that took effect, and counts a failed call with the gold arguments as missing', () => {
    const good = { reservation_id: 'R', payment_id: 'gift_card_1' };
    const retried = traceOf([
      { name: 'update_reservation_flights', args: good, error: 'Error: gift card balance is not enough' },
      { name: 'update_reservation_flights', args: { ...good, payment_id: 'credit_card_9' } },
    ]);
    const e1 = goldActionDiff(
      { ...retried, expectedActions: [gold('update_reservation_flights', good)] },
      diffConfig,
    )!;
    assert.deepEqual(
      e1.findings.map((f) => [f.kind, f.step]),
      [['wrong_arguments', 1]],
    );

    const failedOnly = traceOf([
      { name: 'update_reservation_flights', args: good, error: 'Error: not enough seats' },
    ]);
    const e2 = goldActionDiff(
      { ...failedOnly, expectedActions: [gold('update_reservation_flights', good)] },
      diffConfig,
    )!;
    assert.deepEqual(kinds(e2), ['missing_action']);
    assert.match(
      e2.findings[0]!.detail,
      /attempted with the gold arguments but never took effect \(the call failed: "Error: not enough seats"\)/,
    );
  });

  it('compares handoffs by name only and reports an unasked-for one only when configured', () => {
    const transfer = traceOf([
      { name: 'transfer_to_human_agents', args: { summary: 'The user insists on a refund.' } },
    ]);
    const expected = [
      gold('transfer_to_human_agents', { summary: 'User wants a refund; reservation partly used.' }),
    ];
    assert.deepEqual(kinds(goldActionDiff({ ...transfer, expectedActions: expected }, diffConfig)), []);

    assert.deepEqual(kinds(goldActionDiff({ ...transfer, expectedActions: [] }, diffConfig)), []);
    const strict = GoldActionDiffConfig.parse({ flagExtraHandoffs: true });
    assert.deepEqual(kinds(goldActionDiff({ ...transfer, expectedActions: [] }, strict)), ['extra_action']);
    // A gold handoff the agent skipped is missing either way.
    assert.deepEqual(kinds(goldActionDiff({ ...traceOf([]), expectedActions: expected }, diffConfig)), [
      'missing_action',
    ]);
  });

  it('passes a gold list of reads only when the agent changes nothing, and fails it when it does', () => {
    const reads = [gold('get_reservation_details', { reservation_id: '3RK2T9' })];
    const onlyRead = traceOf([{ name: 'get_reservation_details', args: { reservation_id: '3RK2T9' } }]);
    const e = goldActionDiff({ ...onlyRead, expectedActions: reads }, diffConfig)!;
    assert.equal(e.label, 'pass');
    assert.equal(e.score, 1);
    assert.match(e.explanation, /the gold expects no state change and the agent made none/);

    const cancelled = traceOf([{ name: 'cancel_reservation', args: { reservation_id: '3RK2T9' } }]);
    const f = goldActionDiff({ ...cancelled, expectedActions: reads }, diffConfig)!;
    assert.deepEqual(kinds(f), ['extra_action']);
    assert.equal(f.score, 0);
  });

  it('takes read-only and set-valued argument lists from the configuration', () => {
    const config = GoldActionDiffConfig.parse({ readOnlyTools: ['lookup_*'], unorderedListArguments: [] });
    const steps = agentActions(
      traceOf([
        { name: 'lookup_order', args: { id: 1 } },
        { name: 'get_user_details', args: {} },
        { name: 'refund', args: { items: ['b', 'a'] } },
      ]),
    );
    const result = diffGoldActions([gold('refund', { items: ['a', 'b'] })], steps, config);
    // get_user_details is not read-only under this configuration, and `items` is ordered.
    assert.deepEqual(
      result.findings.map((f) => f.kind),
      ['extra_action', 'wrong_arguments'],
    );
  });
});

describe('expected step match', () => {
  const step = (output: AgentAction, expected?: AgentAction) =>
    expectedStepMatch(traceOf([], { output, ...(expected ? { expected } : {}) }), diffConfig);

  it('is silent without an expected step', () => {
    assert.equal(step(gold('cancel_reservation')), null);
  });

  it('uses the gold comparison: numeric strings match, wrong keys are named, another tool is wrong_tool', () => {
    const expected = gold('send_certificate', { user_id: 'u1', amount: 150 });
    const ok = step(gold('send_certificate', { user_id: 'u1', amount: '150' }), expected)!;
    assert.equal(ok.label, 'pass');
    assert.equal(ok.dimension, 'task_completion');

    const wrongArgs = step(gold('send_certificate', { user_id: 'u1', amount: 200 }), expected)!;
    assert.equal(wrongArgs.category, 'wrong_arguments');
    assert.equal(wrongArgs.findings[0]!.detail, 'send_certificate: amount expected 150, got 200');

    const wrongTool = step({ action: 'respond', arguments: {}, content: 'Sorry.' }, expected)!;
    assert.equal(wrongTool.category, 'wrong_tool');
    assert.equal(wrongTool.score, 0);
  });

  it('accepts any wording when a reply was expected and given', () => {
    const e = step(
      { action: 'respond', arguments: {}, content: 'Done!' },
      { action: 'respond', arguments: {}, content: 'Your flight is booked.' },
    )!;
    assert.equal(e.label, 'pass');
  });
});

const tools: Tool[] = [
  {
    name: 'cancel_reservation',
    description: 'Cancel a reservation.',
    parameters: {
      type: 'object',
      properties: {
        reservation_id: { type: 'string', pattern: '^[A-Z0-9]{6}$' },
        reason: { type: 'string', enum: ['change of plan', 'airline cancelled flight', 'other reasons'] },
      },
      required: ['reservation_id'],
      additionalProperties: false,
    },
  },
  {
    name: 'send_certificate',
    description: 'Send a certificate.',
    parameters: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { user_id: { type: 'string' }, amount: { type: 'number', minimum: 0 } },
      required: ['user_id', 'amount'],
      'x-vendor-extension': true,
    },
  },
];

describe('tool argument validity', () => {
  it('is silent without tool schemas or without calls', () => {
    assert.equal(toolArgumentValidity(traceOf([{ name: 'cancel_reservation' }]), []), null);
    assert.equal(toolArgumentValidity(traceOf([]), tools), null);
  });

  it('passes arguments the schemas accept (unknown keywords and a $schema URL are tolerated)', () => {
    const e = toolArgumentValidity(
      traceOf([
        { name: 'cancel_reservation', args: { reservation_id: 'ABC123', reason: 'other reasons' } },
        { name: 'send_certificate', args: { user_id: 'u1', amount: 50 } },
      ]),
      tools,
    )!;
    assert.equal(e.label, 'pass');
    assert.equal(e.score, 1);
    assert.equal(e.dimension, 'argument_extraction');
  });

  it('reports every schema error of a call, unknown tools and arguments that were not JSON', () => {
    const e = toolArgumentValidity(
      traceOf([
        { name: 'cancel_reservation', args: { reservation_id: 'abc', reason: 'bored', note: 'x' } },
        { name: 'send_certificate', args: { user_id: 'u1' } },
        { name: 'refund_everything', args: {} },
        { name: 'send_certificate', args: { _raw: '{"user_id": "u1", amount: }' } },
      ]),
      tools,
    )!;
    assert.deepEqual(
      e.findings.map((f) => [f.kind, f.step]),
      [
        ['invalid_arguments', 0],
        ['invalid_arguments', 1],
        ['unknown_tool', 2],
        ['invalid_arguments', 3],
      ],
    );
    assert.match(e.findings[0]!.detail, /must NOT have additional properties \(note\)/);
    assert.match(e.findings[0]!.detail, /\/reservation_id must match pattern/);
    assert.match(e.findings[0]!.detail, /\/reason must be equal to one of the allowed values/);
    assert.match(e.findings[1]!.detail, /must have required property 'amount'/);
    assert.match(e.findings[3]!.detail, /not a JSON object/);
    assert.equal(e.score, 0);
    assert.equal(e.category, 'unknown_tool');
  });

  it('leaves calls whose schema does not compile unchecked and lowers the confidence', () => {
    const broken: Tool = {
      name: 'think',
      description: '',
      parameters: { type: 'object', required: 'thought' },
    };
    const e = toolArgumentValidity(
      traceOf([
        { name: 'think', args: { thought: 'hmm' } },
        { name: 'send_certificate', args: { user_id: 'u1', amount: 5 } },
      ]),
      [...tools, broken],
    )!;
    assert.equal(e.label, 'pass');
    assert.equal(e.confidence, 0.5);
    assert.match(e.explanation, /1 unchecked: the schema of think does not compile/);
  });
});

describe('tool preconditions', () => {
  const rules = [
    {
      tool: 'update_reservation_*',
      requires: ['get_reservation_details'],
      sameArguments: ['reservation_id'],
    },
  ];

  it('is silent when no call falls under a rule', () => {
    assert.equal(toolPreconditions(traceOf([{ name: 'cancel_reservation' }]), rules), null);
    assert.equal(toolPreconditions(traceOf([{ name: 'update_reservation_flights' }]), []), null);
  });

  it('passes when the required read of the same reservation came first', () => {
    const e = toolPreconditions(
      traceOf([
        { name: 'get_reservation_details', args: { reservation_id: 'ABC123' } },
        { name: 'update_reservation_flights', args: { reservation_id: 'abc123 ' } },
      ]),
      rules,
    )!;
    assert.equal(e.label, 'pass');
    assert.equal(e.dimension, 'plan_coherence');
  });

  it('flags a call made before the read, after a read of another reservation, or after a failed read', () => {
    const e = toolPreconditions(
      traceOf([
        { name: 'update_reservation_baggages', args: { reservation_id: 'AAA111' } },
        { name: 'get_reservation_details', args: { reservation_id: 'BBB222' } },
        { name: 'update_reservation_flights', args: { reservation_id: 'CCC333' } },
        { name: 'get_reservation_details', args: { reservation_id: 'DDD444' }, error: 'Error: not found' },
        { name: 'update_reservation_flights', args: { reservation_id: 'DDD444' } },
      ]),
      rules,
    )!;
    assert.deepEqual(
      e.findings.map((f) => [f.kind, f.step, f.spanId]),
      [
        ['precondition_violated', 0, 'span-0'],
        ['precondition_violated', 2, 'span-2'],
        ['precondition_violated', 4, 'span-4'],
      ],
    );
    assert.equal(
      e.findings[1]!.detail,
      'update_reservation_flights at step 2 needs an earlier successful get_reservation_details with reservation_id="CCC333"; there was none',
    );
    assert.equal(e.score, 0);
  });
});

describe('text assertions', () => {
  const reply = (content: string) => traceOf([], { output: { action: 'respond', arguments: {}, content } });
  const parse = (a: TextAssertionInput) => TextAssertion.parse(a);

  it('is silent without assertions', () => {
    assert.equal(textAssertions(reply('hi'), []), null);
  });

  it('checks contains, icontains, not-contains, regex with flags, not-regex and equals on the reply', () => {
    const trace = reply('Your refund of $150 goes to the original payment method.');
    const passing = [
      parse({ type: 'contains', value: 'refund' }),
      parse({ type: 'icontains', value: 'ORIGINAL PAYMENT' }),
      parse({ type: 'not-contains', value: 'certificate' }),
      parse({ type: 'regex', value: '\\$\\d+', flags: 'u' }),
      parse({ type: 'not-regex', value: '^sorry', flags: 'i' }),
      parse({ type: 'equals', value: ' Your refund of $150 goes to the original payment method. ' }),
    ];
    const e = textAssertions(trace, passing)!;
    assert.equal(e.label, 'pass');
    assert.equal(e.dimension, 'instruction_adherence');

    const failing = textAssertions(trace, [
      parse({ type: 'contains', value: 'Refund' }),
      parse({ type: 'regex', value: 'voucher', flags: 'i' }),
    ])!;
    assert.deepEqual(kinds(failing), ['assertion_failed', 'assertion_failed']);
    assert.equal(failing.score, 0);
    assert.match(failing.findings[1]!.detail, /^reply regex \/voucher\/i failed on "Your refund/);
  });

  it('treats a trace ending on a tool call as having no reply, and can check the whole output instead', () => {
    const trace = traceOf([], {
      output: { action: 'transfer_to_human_agents', arguments: { summary: 'refund' } },
    });
    const e = textAssertions(trace, [
      parse({ type: 'contains', value: 'refund' }),
      parse({ type: 'not-contains', value: 'refund' }),
      parse({ type: 'contains', value: 'transfer_to_human_agents', target: 'output' }),
    ])!;
    assert.deepEqual(kinds(e), ['assertion_failed']);
    assert.match(
      e.findings[0]!.detail,
      /ends on a tool call \(transfer_to_human_agents\), so there is no reply/,
    );
  });
});

describe('threshold checks', () => {
  it('is silent without limits or measurements', () => {
    const trace = traceOf([]);
    assert.equal(latencyThreshold(trace, {}), null);
    assert.equal(costThreshold(trace, { maxCostUsd: 1 }), null);
  });

  it('checks the whole trace and each span against the latency limits', () => {
    const trace = traceOf([{ name: 'get_user_details' }, { name: 'search_direct_flight', latencyMs: 4000 }], {
      latencyMs: 12_000,
    });
    assert.equal(latencyThreshold(trace, { maxLatencyMs: 20_000 })!.label, 'pass');
    const e = latencyThreshold(trace, { maxLatencyMs: 6000, maxSpanLatencyMs: 1000 })!;
    assert.deepEqual(
      e.findings.map((f) => [f.kind, f.step, f.spanId ?? null]),
      [
        ['latency_exceeded', null, null],
        ['slow_span', 1, 'span-1'],
      ],
    );
    assert.equal(e.score, 0.25);
    assert.equal(e.dimension, 'latency');
  });

  it('checks the cost, summing span costs when the trace has no total', () => {
    const trace = traceOf([{ name: 'a' }, { name: 'b' }]);
    trace.spans[0]!.costUsd = 0.03;
    trace.spans[1]!.costUsd = 0.05;
    const e = costThreshold(trace, { maxCostUsd: 0.04 })!;
    assert.equal(e.label, 'fail');
    assert.equal(e.category, 'cost_exceeded');
    assert.equal(e.score, 0.5);
    assert.equal(costThreshold({ ...trace, costUsd: 0.01 }, { maxCostUsd: 0.04 })!.label, 'pass');
  });
});

describe('code evaluator configuration', () => {
  it('defaults to the gold diff and argument schemas with tau-bench read-only tools', () => {
    const config = CodeEvaluatorConfig.parse({});
    assert.deepEqual(config, {
      goldActionDiff: {
        enabled: true,
        readOnlyTools: ['get_*', 'search_*', 'list_*', 'calculate', 'think'],
        handoffTools: ['transfer_to_human_agents'],
        flagExtraHandoffs: false,
        unorderedListArguments: ['passengers', 'payment_methods'],
      },
      argumentSchemas: { enabled: true },
      preconditions: [],
      assertions: [],
      thresholds: {},
    });
  });

  it('rejects a bad regex with a message naming the assertion and what to do', () => {
    const result = CodeEvaluatorConfig.safeParse({
      assertions: [
        { type: 'contains', value: 'refund' },
        { type: 'regex', value: '(unclosed' },
      ],
    });
    if (result.success) assert.fail('a bad regex must be rejected');
    const issue = result.error.issues[0]!;
    assert.deepEqual(issue.path, ['assertions', 1, 'value']);
    assert.match(
      issue.message,
      /^assertion #1 \(regex "\(unclosed"\): .*Unterminated group.*; fix the pattern, or use "contains"/,
    );
  });

  it('rejects assertions that cannot decide anything and flags that do not apply', () => {
    const messages = (input: unknown) =>
      CodeEvaluatorConfig.safeParse(input).error?.issues.map((i) => i.message) ?? [];
    assert.match(messages({ assertions: [{ type: 'regex', value: 'x*' }] })[0]!, /matches the empty string/);
    assert.match(
      messages({ assertions: [{ type: 'contains', value: '' }] })[0]!,
      /empty value matches every text/,
    );
    assert.match(
      messages({ assertions: [{ type: 'contains', value: 'a', flags: 'i' }] })[0]!,
      /flags only apply to regex/,
    );
    assert.match(
      messages({ assertions: [{ type: 'regex', value: 'a', flags: 'g' }] })[0]!,
      /may only hold the regex flags/,
    );
    assert.match(
      messages({ preconditions: [{ tool: 'cancel_reservation', requires: [] }] })[0]!,
      /at least one tool/,
    );
    assert.match(
      messages({ goldActionDiff: { readOnlyTools: ['get user'] } })[0]!,
      /a tool name, optionally with \* wildcards/,
    );
  });
});

describe('runCodeEvaluators', () => {
  it('runs the configured evaluators, skips the silent ones, and each decides a declared dimension', () => {
    const trace = traceOf(
      [
        { name: 'get_reservation_details', args: { reservation_id: 'ABC123' } },
        { name: 'cancel_reservation', args: { reservation_id: 'ABC123' } },
      ],
      { latencyMs: 3000, expectedActions: [gold('cancel_reservation', { reservation_id: 'ABC123' })] },
    );
    const config = CodeEvaluatorConfig.parse({
      preconditions: [
        {
          tool: 'cancel_reservation',
          requires: ['get_reservation_details'],
          sameArguments: ['reservation_id'],
        },
      ],
      assertions: [{ type: 'icontains', value: 'updated' }],
      thresholds: { maxLatencyMs: 5000, maxCostUsd: 1 },
    });
    // get_reservation_details is not among `tools`, so argument validity fails on it; the
    // trace reports no cost, so the cost check stays silent despite its limit.
    const evaluations = runCodeEvaluators(trace, config, tools);
    assert.deepEqual(
      evaluations.map((e) => [e.evaluator, e.dimension, e.label]),
      [
        ['gold_action_diff', 'task_completion', 'pass'],
        ['tool_argument_validity', 'argument_extraction', 'fail'],
        ['tool_preconditions', 'plan_coherence', 'pass'],
        ['text_assertions', 'instruction_adherence', 'pass'],
        ['latency_threshold', 'latency', 'pass'],
      ],
    );
    for (const e of evaluations) {
      assert.deepEqual(Evaluation.parse(e), e);
      assert.ok(CODE_EVALUATORS.some((c) => c.evaluator === e.evaluator && c.dimension === e.dimension));
    }
    assert.equal(new Set(CODE_EVALUATORS.map((c) => c.evaluator)).size, CODE_EVALUATORS.length);
    assert.deepEqual(CODE_DECIDABLE_DIMENSIONS, [
      'task_completion',
      'argument_extraction',
      'plan_coherence',
      'instruction_adherence',
      'latency',
      'cost',
    ]);

    const off = CodeEvaluatorConfig.parse({
      goldActionDiff: { enabled: false },
      argumentSchemas: { enabled: false },
    });
    assert.deepEqual(runCodeEvaluators(trace, off, tools), []);
  });
});

describe('gold diff on the 200 tau-bench airline trajectories', () => {
  const { traces, errors } = tauBenchToTraces(
    JSON.parse(readFileSync(sharedDataset('tau_bench/historical_trajectories/gpt-4o-airline.json'), 'utf8')),
    { agent: 'airline', source: 'gpt-4o-airline', baseTime: '2024-05-15T15:00:00Z', model: 'gpt-4o' },
  );
  const labels = traces.map((t) => ({ reward: t.reward, label: goldActionDiff(t, diffConfig)?.label }));

  it('passes most reward-1 trajectories and flags most reward-0 ones', () => {
    assert.deepEqual(errors, []);
    assert.ok(
      labels.every((l) => l.label !== undefined),
      'every trajectory has gold actions',
    );
    const passes = labels.filter((l) => l.reward === 1);
    const failures = labels.filter((l) => l.reward === 0);
    assert.equal(passes.length, 84);
    assert.equal(failures.length, 116);
    // Measured 76 of 84: the 8 others skipped a gold transfer to a human, which tau-bench's
    // reward does not check (tasks 13, 35, 36).
    assert.ok(passes.filter((l) => l.label === 'pass').length >= 76);
    // Measured 112 of 116: the other 4 made every gold action and failed elsewhere (a wrong
    // number in the final answer, or the conversation hit the step limit).
    assert.ok(failures.filter((l) => l.label === 'fail').length >= 112);
  });
});
