import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';
import { simulateRubricJudge } from '../simulator/simulated-diagnosis.js';
import { findExample, simulateAgent, simulateTeacher } from '../simulator/simulated-models.js';
import { userPhrasing } from '../../scripts/demo-traffic.js';
import { chatCompletion, SIMULATED_MODELS } from '../simulator/simulator-server.js';

const scenario = loadScenario(AIRLINE_SCENARIO);
const byRule = (rule: string) => scenario.examples.find((e) => e.rule === rule)!;

describe('simulator', () => {
  it('fails a rule example until the prompt carries a fixing phrase', () => {
    const ex = byRule('basic_economy_no_changes');
    const base = simulateAgent(scenario, scenario.basePrompt, ex.request, 1);
    assert.equal(base.action.action, ex.wrong.action);
    const fixed = simulateAgent(
      scenario,
      `${scenario.basePrompt}\nBasic economy flights cannot be modified.`,
      ex.request,
      1,
    );
    assert.equal(fixed.action.action, ex.expected.action);
  });
  it('an over-broad phrase fixes one mode and breaks routine requests', () => {
    const phrase = scenario.overBroad[0]!.phrase;
    const routine = scenario.examples.find((e) => e.tags.includes('routine'))!;
    assert.equal(
      simulateAgent(scenario, scenario.basePrompt, routine.request, 1).action.action,
      routine.expected.action,
    );
    assert.equal(
      simulateAgent(scenario, `${scenario.basePrompt}\n${phrase}`, routine.request, 1).action.action,
      'transfer_to_human_agents',
    );
  });
  it('is deterministic for a seed, which only decides the noise', () => {
    const answers = (seed: number) =>
      scenario.examples.map((ex) => simulateAgent(scenario, 'p', ex.request, seed).action.action);
    const seed3 = answers(3);
    const others = Array.from({ length: 50 }, (_, seed) => answers(100 + seed));
    // Whatever ran in between, seed 3 answers as before: no hidden state, no Math.random.
    assert.deepEqual(answers(3), seed3);
    // Without a fixing phrase the agent breaks every rule; noise swaps about its share of answers.
    const noiseless = scenario.examples.map(
      (ex) => (scenario.rules.some((r) => r.id === ex.rule) ? ex.wrong : ex.expected).action,
    );
    const decisions = [seed3, ...others];
    const swapped = decisions.flatMap((row) => row.filter((action, k) => action !== noiseless[k])).length;
    const share = swapped / (decisions.length * noiseless.length);
    assert.ok(swapped > 0 && Math.abs(share - scenario.noise.agent) < 0.01, `swapped ${share}`);
  });
  it('the judge names the failure category of the broken rule', () => {
    const ex = byRule('confirm_before_booking');
    const v = simulateRubricJudge(
      scenario,
      'judge_task_completion_v1',
      `## Trace to judge\n### Conversation\nuser: ${ex.request}\n\n### Agent's steps\n[0] action: ${ex.wrong.action}`,
      123456,
    );
    // Judge noise may flip a verdict; seeds are fixed, so this one is stable.
    assert.equal(v.verdict, 'fail');
    assert.equal(v.failure_category, 'missing_confirmation');
  });
  it('the teacher proposes fixes for the failure modes it reads about', () => {
    const request = `<current_prompt>\n${scenario.basePrompt}\n</current_prompt>\nThe agent modified a basic economy reservation.`;
    const candidates = simulateTeacher(scenario, request, 10, 1);
    assert.equal(candidates.length, 10);
    assert.ok(candidates.some((c) => /basic economy/i.test(c.prompt)));
    assert.ok(candidates.every((c) => c.prompt.startsWith(scenario.basePrompt)));
  });

  it('charges a tool call the same however many requests the server answered before it', () => {
    const ex = scenario.examples.find(
      (e) => simulateAgent(scenario, scenario.basePrompt, e.request, 1).action.action !== 'respond',
    )!;
    const ask = () => {
      const answer = chatCompletion(scenario, {
        model: SIMULATED_MODELS.agent,
        messages: [
          { role: 'system', content: scenario.basePrompt },
          { role: 'user', content: ex.request },
        ],
        tools: [{ function: { description: 'an action the agent may take' } }],
        seed: 1,
      });
      const body = answer.body as {
        choices: { message: { tool_calls: { id: string }[] } }[];
        usage: { completion_tokens: number };
      };
      return { id: body.choices[0]!.message.tool_calls[0]!.id, usage: body.usage };
    };
    const first = ask();
    // The server numbers its answers; ask until the call id has grown by four digits, so its
    // length has crossed a multiple of four (the simulator charges a token per four characters).
    for (let last = first; last.id.length < first.id.length + 4;) {
      last = ask();
      assert.deepEqual(last.usage, first.usage, `usage changed at ${last.id}`);
    }
  });

  it("the demo's users word a request in several ways that keep the request and add no rule symptom", () => {
    const symptoms = scenario.rules.flatMap((r) => r.symptoms.map((x) => x.toLowerCase()));
    for (const example of scenario.examples.slice(0, 10)) {
      const wordings = new Set<string>();
      for (let k = 0; k < 40; k++) {
        const text = userPhrasing(example.request, `live-${k}`);
        assert.equal(text, userPhrasing(example.request, `live-${k}`), 'the same key words it the same way');
        assert.equal(findExample(scenario, text)?.id, example.id, 'the simulator still finds the request');
        const added = text.replace(example.request, '').toLowerCase();
        for (const symptom of symptoms) assert.ok(!added.includes(symptom), `"${added}" adds "${symptom}"`);
        wordings.add(text);
      }
      assert.ok(wordings.size >= 20, `only ${wordings.size} wordings in 40 users`);
    }
  });
});
