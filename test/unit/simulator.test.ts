import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';
import { simulateRubricJudge } from '../simulator/simulated-diagnosis.js';
import { simulateAgent, simulateTeacher } from '../simulator/simulated-models.js';

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
  it('is deterministic for a seed', () => {
    for (const ex of scenario.examples.slice(0, 20)) {
      assert.deepEqual(
        simulateAgent(scenario, 'p', ex.request, 3),
        simulateAgent(scenario, 'p', ex.request, 3),
      );
    }
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
});
