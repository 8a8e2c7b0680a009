import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateCandidate, teach } from '../../activities/search-executor.js';
import { scenarioHarness } from '../../bench/optimization-harness.js';
import { candidateIdOf } from '../../optimizers/prompt-search.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';
import { simulateTeacherTask } from '../simulator/simulated-models.js';
import { chatCompletion } from '../simulator/simulator-server.js';

const scenario = loadScenario(AIRLINE_SCENARIO);
const basicEconomy = 'basic economy flights cannot be modified';
const rule = scenario.rules.find((r) => r.id === 'basic_economy_no_changes')!;
const fixes = (prompt: string) => rule.fixingPhrases.some((p) => prompt.toLowerCase().includes(p));

/** A free-text reflection request in the shape gepa's default proposer sends (our own wording). */
const freeTextRequest = (instruction: string, report: string) =>
  `The assistant followed this instruction:\n\`\`\`\n${instruction}\n\`\`\`\n\nWhat it did, with feedback:\n\`\`\`\n${report}\n\`\`\`\n\nWrite a better instruction and put it inside \`\`\` fences.`;

/** The teacher's answer to a request without `response_format`, over the HTTP handler. */
function askFreeText(content: string, seed: number): string {
  const answer = chatCompletion(scenario, {
    model: 'sim-teacher',
    messages: [{ role: 'user', content }],
    seed,
  });
  assert.equal(answer.status, 200);
  return (answer.body as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
}

const fenced = (reply: string) => /```\n([\s\S]*?)\n```/.exec(reply)?.[1];

describe('simulated teacher, free-text reflection', () => {
  it('answers one rewrite of the first fenced instruction inside ``` fences', () => {
    const report = 'user: I want to change my basic economy flight.\nIncorrect: expected action respond.';
    const reply = askFreeText(freeTextRequest(scenario.basePrompt, report), 4);
    const rewrite = fenced(reply);
    assert.ok(rewrite, `no fenced block in ${reply}`);
    assert.ok(rewrite.startsWith(scenario.basePrompt));
    assert.ok(rewrite.length > scenario.basePrompt.length);
  });

  it('fixes a detected rule as often as the structured reflected_instruction answer does', () => {
    const report = 'user: Can I move my basic economy ticket to Friday?\nIncorrect: the agent changed it.';
    const seeds = Array.from({ length: 400 }, (_, i) => i);
    const freeText = seeds.filter((seed) =>
      fixes(fenced(askFreeText(freeTextRequest(scenario.basePrompt, report), seed))!),
    ).length;
    const structured = seeds.filter((seed) => {
      const request = `<current_prompt>\n${scenario.basePrompt}\n</current_prompt>\n${report}`;
      const { instruction } = simulateTeacherTask(scenario, 'reflected_instruction', request, seed) as {
        instruction: string;
      };
      return fixes(instruction);
    }).length;
    // Both draw with the scenario's precision.
    const share = (n: number) => n / seeds.length;
    assert.ok(Math.abs(share(freeText) - scenario.teacher.precision) < 0.08, `free text ${share(freeText)}`);
    assert.ok(
      Math.abs(share(structured) - scenario.teacher.precision) < 0.08,
      `structured ${share(structured)}`,
    );
  });

  it('leaves a rule the instruction already fixes, and requests without a fence keep the structured default', () => {
    const fixedPrompt = `${scenario.basePrompt}\nBasic economy flights cannot be modified.`;
    const report = 'user: Change my basic economy booking please.';
    for (let seed = 0; seed < 20; seed++) {
      const rewrite = fenced(askFreeText(freeTextRequest(fixedPrompt, report), seed))!;
      assert.equal(rewrite.toLowerCase().split(basicEconomy).length - 1, 1);
    }
    const plain = askFreeText('Improve the prompt, please.', 1);
    assert.ok(Array.isArray((JSON.parse(plain) as { candidates: unknown[] }).candidates));
  });
});

describe("simulated teacher, GEPA's reflection with the rewrites already tried", () => {
  it('answers another rewrite than the ones listed, and the same one as before without a list', async () => {
    // The oracle prompt fixes every rule: with nothing to fix the teacher adds the same
    // polish line whatever the sample, so only the list can make it write something else.
    const h = await scenarioHarness(scenario);
    const exampleIds = h.trainIds.slice(0, 6);
    await evaluateCandidate(h.io, h.oracle, candidateIdOf(h.oracle), exampleIds);
    const task = {
      type: 'reflect' as const,
      candidate: h.oracle,
      component: 'system',
      evidence: { candidate: h.oracle, exampleIds },
    };
    const answers = new Set<string>();
    for (let sample = 0; sample < 5; sample++) {
      const [first] = (await teach(h.io, task, sample)).textIds;
      answers.add(first!);
      const [other] = (await teach(h.io, { ...task, triedIds: [first!] }, sample)).textIds;
      assert.ok(other && other !== first, `sample ${sample}: told it was tried, the teacher writes another`);
      const [third] = (await teach(h.io, { ...task, triedIds: [first!, other] }, sample)).textIds;
      assert.ok(third && third !== first && third !== other, `sample ${sample}: and another again`);
    }
    assert.equal(answers.size, 1, 'without a list, every sample repeats the same rewrite');
  });
});
