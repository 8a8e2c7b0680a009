import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fewShotMessages } from '../../coaching/coaching-messages.js';
import { runAgentStep } from '../../llm/agent-step.js';
import type { CoachingBehaviour } from '../../schemas/coaching.js';
import { InProcessSimulatorClient } from '../simulator/in-process-client.js';
import { AIRLINE_SCENARIO, loadScenario, scenarioTools } from '../simulator/scenario.js';
import { situationApplies } from '../simulator/simulated-coaching.js';
import { simulateAgent } from '../simulator/simulated-models.js';
import { SIMULATED_MODELS } from '../simulator/simulated-model-names.js';

const scenario = loadScenario(AIRLINE_SCENARIO);
const example = (id: string) => scenario.examples.find((e) => e.id === id)!;
const request = (id: string) => example(id).request;
const withRule = (rule: string | null) => scenario.examples.filter((e) => e.rule === rule);

/** The coaching as the agent's model reads it: the few-shot messages recall returns. */
function coachingOf(situation: string, behaviour: CoachingBehaviour) {
  const messages = fewShotMessages([{ situation, example: null, behaviour }]);
  return { messages, examples: [{ situation, behaviour: messages[2]!.content }] };
}

const basicEconomy = coachingOf('When a customer asks to move a basic-economy flight', {
  kind: 'reply',
  text: 'I am sorry, but basic economy flights cannot be modified. I can help you cancel if the reservation is eligible.',
});
const tooBroad = coachingOf('When a customer mentions a reservation', {
  kind: 'reply',
  text: 'Basic economy flights cannot be modified.',
});

describe('the simulated agent and coaching', () => {
  it('follows a coaching example on every request in its situation, fixing the failure the prompt leaves', () => {
    for (const e of withRule('basic_economy_no_changes')) {
      const without = simulateAgent(scenario, scenario.basePrompt, e.request, 1);
      const coached = simulateAgent(scenario, scenario.basePrompt, e.request, 1, '', basicEconomy.examples);
      assert.equal(without.correct, false, `${e.id} fails without coaching`);
      assert.equal(coached.correct, true, `${e.id} is fixed by the coaching`);
      assert.equal(coached.action.action, 'respond');
      assert.match(coached.reply, /cannot be modified/);
    }
  });

  it('ignores a coaching example on requests outside its situation', () => {
    for (const e of scenario.examples.filter((x) => x.rule !== 'basic_economy_no_changes')) {
      const without = simulateAgent(scenario, scenario.basePrompt, e.request, 1);
      const coached = simulateAgent(scenario, scenario.basePrompt, e.request, 1, '', basicEconomy.examples);
      assert.deepEqual(coached, without, e.id);
    }
  });

  it('misfires with a wrongly scoped coaching on requests it was not meant for', () => {
    const lookup = example('ex-005');
    assert.ok(situationApplies('When a customer mentions a reservation', lookup.request));
    const coached = simulateAgent(scenario, scenario.basePrompt, lookup.request, 1, '', tooBroad.examples);
    assert.equal(coached.action.action, 'respond');
    assert.equal(coached.correct, false, 'the lookup needed get_user_details');
    const routine = withRule(null).filter((e) =>
      situationApplies('When a customer mentions a reservation', e.request),
    );
    assert.ok(routine.length > 0, 'some routine requests mention a reservation');
    const broken = routine.filter(
      (e) => !simulateAgent(scenario, scenario.basePrompt, e.request, 1, '', tooBroad.examples).correct,
    );
    assert.ok(broken.length > 0, 'routine requests about a reservation break');
  });

  it('follows a tool call or a transfer shown by the example, with its arguments', () => {
    const transfer = coachingOf('When a customer wants to file a claim for a damaged bag', {
      kind: 'transfer',
      reason: 'damaged baggage claim',
    });
    const claim = example('ex-004');
    const coached = simulateAgent(scenario, scenario.basePrompt, claim.request, 1, '', transfer.examples);
    assert.deepEqual(coached.action, {
      action: 'transfer_to_human_agents',
      arguments: { summary: 'damaged baggage claim' },
    });
    assert.equal(coached.correct, true);
    const lookupFirst = coachingOf('When a customer asks what flights are on a reservation', {
      kind: 'tool_call',
      tool: 'get_user_details',
      arguments: { user_id: 'mia_li_1222' },
    });
    const lookup = simulateAgent(
      scenario,
      scenario.basePrompt,
      example('ex-005').request,
      1,
      '',
      lookupFirst.examples,
    );
    assert.deepEqual(lookup.action, { action: 'get_user_details', arguments: { user_id: 'mia_li_1222' } });
  });

  it('reads coaching from the messages of a chat request (the step replay with the recalled messages)', async () => {
    const client = new InProcessSimulatorClient(scenario, SIMULATED_MODELS.agent);
    const request = example('ex-001');
    const input = {
      systemPrompt: scenario.basePrompt,
      messages: [{ role: 'user' as const, content: request.request }],
      tools: scenarioTools(scenario),
      seed: 1,
    };
    const before = await runAgentStep(client, input);
    const after = await runAgentStep(client, { ...input, fewShot: basicEconomy.messages });
    assert.equal(before.step.action, 'update_reservation_flights');
    assert.equal(after.step.action, 'respond');
    assert.match(after.step.content ?? '', /cannot be modified/);
    // The examples are not part of the system prompt: their words fix nothing elsewhere.
    const cancel = await runAgentStep(client, {
      ...input,
      messages: [{ role: 'user', content: example('ex-002').request }],
      fewShot: basicEconomy.messages,
    });
    assert.equal(cancel.step.action, 'cancel_reservation');
  });

  it('reads the examples the same when a client drops the name field of the messages', async () => {
    const client = new InProcessSimulatorClient(scenario, SIMULATED_MODELS.agent);
    const unnamed = basicEconomy.messages.map(({ name: _name, ...m }) => m);
    const after = await runAgentStep(client, {
      systemPrompt: scenario.basePrompt,
      messages: [{ role: 'user', content: request('ex-007') }],
      fewShot: unnamed,
      tools: scenarioTools(scenario),
      seed: 1,
    });
    assert.equal(after.step.action, 'respond');
    const elsewhere = await runAgentStep(client, {
      systemPrompt: scenario.basePrompt,
      messages: [{ role: 'user', content: request('ex-002') }],
      fewShot: unnamed,
      tools: scenarioTools(scenario),
      seed: 1,
    });
    assert.equal(elsewhere.step.action, 'cancel_reservation', 'the example is no system-prompt rule');
  });
});
