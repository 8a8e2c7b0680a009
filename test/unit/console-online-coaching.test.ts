import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterChoices, type Cluster } from '../../console/src/api/cluster-choices.js';
import {
  actionOfMessage,
  behaviourDraft,
  behaviourOf,
  suggestSituation,
} from '../../console/src/api/coaching-draft.js';
import { capShare, findingValue, findingWhat, onlinePassRate } from '../../console/src/api/online-figures.js';
import type { ChatMessage } from '../../console/src/api/types.js';
import { CoachingBehaviour } from '../../schemas/coaching.js';

const cluster = (over: Partial<Cluster>): Cluster => ({
  id: 'c2:demo-fc001',
  stableId: 'demo-fc001',
  name: 'Wrong booking looked up',
  category: 'tool_selection',
  intervention: 'prompt',
  size: 4,
  cycleId: 'c2',
  cycleStartedAt: '2026-03-08T00:00:00.000Z',
  ...over,
});

describe('console trace search: the cluster picker', () => {
  it('offers a cluster that came back in several cycles once, under its newest name, by its stable id', () => {
    const choices = clusterChoices(
      [
        cluster({}),
        cluster({ id: 'c2:x', stableId: null, name: 'Refund loops', category: 'planning', size: 1 }),
        cluster({ id: 'c1:demo-fc001', cycleId: 'c1', name: 'Old name', size: 9 }),
      ],
      undefined,
    );
    assert.deepEqual(choices, [
      { value: 'demo-fc001', label: 'Wrong booking looked up (tool selection, 4 traces, in 2 cycles)' },
      { value: 'c2:x', label: 'Refund loops (planning, 1 trace)' },
    ]);
  });

  it('keeps the cluster the address names pickable when it is not an entry', () => {
    const clusters = [cluster({}), cluster({ id: 'c1:demo-fc001', cycleId: 'c1' })];
    assert.equal(clusterChoices(clusters, 'demo-fc001').length, 1);
    assert.deepEqual(clusterChoices(clusters, 'c1:demo-fc001').at(-1), {
      value: 'c1:demo-fc001',
      label: 'Wrong booking looked up (cycle c1 only)',
    });
    assert.deepEqual(clusterChoices([], 'demo-fc077'), [
      { value: 'demo-fc077', label: 'demo-fc077 (not in the newest cycles)' },
    ]);
  });
});

describe('console online evaluation: figures from the status answer', () => {
  it('pass rate is the share of scored traces no evaluator failed, over the runs shown', () => {
    assert.deepEqual(
      onlinePassRate([
        { scored: 8, failing: 2 },
        { scored: 2, failing: 0 },
      ]),
      { rate: 0.8, scored: 10, failing: 2 },
    );
    assert.deepEqual(onlinePassRate([{ scored: 0, failing: 0 }]), { rate: null, scored: 0, failing: 0 });
  });

  it('spend is a share of the cap, none without a cap', () => {
    assert.equal(capShare(0.25, 1), 0.25);
    assert.equal(capShare(1.5, 1), 1.5);
    assert.equal(capShare(0.25, 0), null);
  });

  it('says what moved in the words of the alert notice, and each value in its unit', () => {
    assert.equal(findingWhat({ metric: 'judge_fail', test: 'fisher' }), 'online failure rate');
    assert.equal(findingWhat({ metric: 'judge_fail', test: 'fisher_share' }), 'share of traffic');
    assert.match(findingWhat({ metric: 'input', test: 'chi_square_embedding' }), /inputs of one kind/);
    assert.equal(findingValue('judge_fail', 0.125), '12.5%');
    assert.equal(findingValue('latency', 812.4), '812 ms');
    assert.equal(findingValue('cost', 0.0021), '$0.0021');
  });
});

describe('console coaching from a trace step', () => {
  const messages: ChatMessage[] = [
    { role: 'system', content: 'You are an airline agent.' },
    { role: 'user', content: 'Cancel   reservation ZX9\nplease' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', name: 'get_reservation_details', arguments: { reservation_id: 'ZX9' } }],
    },
    { role: 'tool', content: 'not found', tool_call_id: 'c1' },
    { role: 'user', content: 'It is under Jane Doe' },
  ];

  it('starts the situation from the request the agent answered at that step', () => {
    assert.equal(suggestSituation(messages, 2), 'When replying to: "Cancel reservation ZX9 please"');
    assert.equal(suggestSituation(messages, messages.length), 'When replying to: "It is under Jane Doe"');
    assert.equal(suggestSituation(messages, 1), '', 'no request before the first user turn');
    const long = suggestSituation([{ role: 'user', content: 'x'.repeat(500) }], 1);
    assert.equal(long, `When replying to: "${'x'.repeat(299)}…"`);
  });

  it('starts the behaviour from the step, and builds a body the API schema takes', () => {
    const draft = behaviourDraft(actionOfMessage(messages[2]!));
    assert.equal(draft.kind, 'tool_call');
    assert.equal(draft.tool, 'get_reservation_details');
    const built = behaviourOf(draft);
    assert.ok('behaviour' in built);
    assert.deepEqual(CoachingBehaviour.parse(built.behaviour), {
      kind: 'tool_call',
      tool: 'get_reservation_details',
      arguments: { reservation_id: 'ZX9' },
    });
    const reply = behaviourOf({
      ...behaviourDraft({ action: 'respond', content: 'Which name is it under?' }),
      kind: 'ask_confirmation',
    });
    assert.deepEqual(reply, { behaviour: { kind: 'ask_confirmation', text: 'Which name is it under?' } });
  });

  it('says what is wrong with a draft before any request', () => {
    const draft = behaviourDraft(null);
    assert.deepEqual(behaviourOf(draft), { error: 'Write the reply the agent should give.' });
    assert.match(
      (behaviourOf({ ...draft, kind: 'tool_call', tool: 'cancel', arguments: '[1]' }) as { error: string })
        .error,
      /JSON object/,
    );
    assert.match(
      (behaviourOf({ ...draft, kind: 'tool_call', tool: 'cancel', arguments: '{oops' }) as { error: string })
        .error,
      /JSON object/,
    );
    assert.deepEqual(behaviourOf({ ...draft, kind: 'transfer' }), {
      error: 'Say why the agent should transfer to a human.',
    });
  });
});
