import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';
import { simulateTeacherTask } from '../simulator/simulated-models.js';
import { chatCompletion } from '../simulator/simulator-server.js';

const scenario = loadScenario(AIRLINE_SCENARIO);
const rule = scenario.rules.find((r) => r.id === 'basic_economy_no_changes')!;
const fixes = (prompt: string) => rule.fixingPhrases.some((p) => prompt.toLowerCase().includes(p));

/**
 * A request as DSPy's ChatAdapter writes it for a signature (dspy 3.4.1, abridged field
 * descriptions): the fields listed in the system turn, the inputs as `[[ ## name ## ]]` sections
 * in the user turn, then the output-format reminder.
 */
function dspyRequest(inputs: Record<string, string>, outputs: string[]) {
  const list = (names: string[]) => names.map((n, i) => `${i + 1}. \`${n}\` (str): the ${n}`).join('\n');
  const sections = (names: string[], value: (n: string) => string) =>
    names.map((n) => `[[ ## ${n} ## ]]\n${value(n)}`).join('\n\n');
  const system = [
    `Your input fields are:\n${list(Object.keys(inputs))}\nYour output fields are:\n${list(outputs)}`,
    `All interactions will be structured in the following way, with the appropriate values filled in.\n\n${sections(Object.keys(inputs), (n) => `{${n}}`)}\n\n${sections(outputs, (n) => `{${n}}`)}\n\n[[ ## completed ## ]]`,
    'In adhering to this structure, your objective is: \n        Use the information below to learn about a task.',
  ].join('\n\n');
  const user = `${sections(Object.keys(inputs), (n) => inputs[n]!)}\n\nRespond with the corresponding output fields, starting with the field ${outputs.map((o) => `\`[[ ## ${o} ## ]]\``).join(', then ')}, and then ending with the marker for \`[[ ## completed ## ]]\`.`;
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

function ask(messages: { role: string; content: string }[], seed: number): Map<string, string> {
  const answer = chatCompletion(scenario, { model: 'sim-teacher', messages, seed });
  assert.equal(answer.status, 200);
  const content = (answer.body as { choices: { message: { content: string } }[] }).choices[0]!.message
    .content;
  assert.match(content, /\n\n\[\[ ## completed ## \]\]$/, 'ends with the completed marker');
  const fields = new Map<string, string>();
  const parts = content.split(/^\[\[ ## (\w+) ## \]\]\n?/m);
  for (let i = 1; i + 1 < parts.length; i += 2) fields.set(parts[i]!, parts[i + 1]!.trim());
  return fields;
}

const demo =
  'Conversation: user: My basic economy booking ZFA04Y, please move it to Friday.\nStep: action: respond';

describe('simulated teacher, DSPy ChatAdapter requests (mipro-reference)', () => {
  it('answers each output field in the marker format, ending with [[ ## completed ## ]]', () => {
    const fields = ask(
      dspyRequest({ program_code: 'class Agent(dspy.Module): ...', program_example: demo }, [
        'program_description',
      ]),
      1,
    );
    assert.deepEqual([...fields.keys()], ['program_description', 'completed']);
    assert.ok(fields.get('program_description')!.length > 0);
  });

  it('proposes a rewrite of basic_instruction that fixes a rule shown elsewhere as often as our MIPRO teacher does', () => {
    const seeds = Array.from({ length: 400 }, (_, i) => i);
    const dspy = seeds.filter((seed) => {
      const fields = ask(
        dspyRequest(
          {
            dataset_description: 'Requests about "basic economy" need care (policy).',
            task_demos: demo,
            basic_instruction: scenario.basePrompt,
            tip: 'Keep the instruction clear and concise.',
          },
          ['proposed_instruction'],
        ),
        seed,
      );
      const instruction = fields.get('proposed_instruction')!;
      assert.ok(instruction.startsWith(scenario.basePrompt), instruction);
      return fixes(instruction);
    }).length;
    const ours = seeds.filter((seed) => {
      const request = `<current_prompt>\n${scenario.basePrompt}\n</current_prompt>\n${demo}`;
      const { instruction } = simulateTeacherTask(scenario, 'proposed_instruction', request, seed) as {
        instruction: string;
      };
      return fixes(instruction);
    }).length;
    const share = (n: number) => n / seeds.length;
    assert.ok(Math.abs(share(dspy) - scenario.teacher.precision) < 0.08, `DSPy request ${share(dspy)}`);
    assert.ok(Math.abs(share(ours) - scenario.teacher.precision) < 0.08, `ours ${share(ours)}`);
  });

  it('writes dataset observations, adds only new ones to prior observations, and says COMPLETE when there are none', () => {
    const examples = `[Example({'conversation': 'user: ${demo}'}) (input_keys={'conversation'})]`;
    const seedThatNotices = Array.from({ length: 50 }, (_, i) => i).find((seed) =>
      /basic economy/.test(ask(dspyRequest({ examples }, ['observations']), seed).get('observations')!),
    );
    assert.notEqual(seedThatNotices, undefined, 'the symptom is noticed with the teacher precision');
    const first = ask(dspyRequest({ examples }, ['observations']), seedThatNotices!).get('observations')!;
    const again = ask(dspyRequest({ examples, prior_observations: first }, ['observations']), 3);
    assert.equal(again.get('observations'), 'COMPLETE');
    const summary = ask(dspyRequest({ observations: first }, ['summary']), 3).get('summary');
    assert.equal(summary, first, 'the summary keeps what was observed');
  });

  it('leaves requests in other shapes to the other teacher answers', () => {
    const plain = chatCompletion(scenario, {
      model: 'sim-teacher',
      messages: [{ role: 'user', content: 'Improve the prompt, please.' }],
    });
    const content = (plain.body as { choices: { message: { content: string } }[] }).choices[0]!.message
      .content;
    assert.ok(Array.isArray((JSON.parse(content) as { candidates: unknown[] }).candidates));
  });
});
