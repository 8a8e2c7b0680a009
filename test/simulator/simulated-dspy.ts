import type { Scenario } from './scenario.js';
import { simulateTeacherTask } from './simulated-models.js';

/**
 * The simulated teacher as DSPy's prompt model (MIPROv2's grounded proposer, through DSPy's
 * ChatAdapter): a request whose system turn lists "Your output fields are:" and whose user turn
 * holds `[[ ## field ## ]]` sections. Answered field by field in the same format, by the same
 * rules as our own MIPRO's teacher tasks, so `mipro-reference` gets exactly the teacher ours gets:
 *
 * - `observations` (dataset descriptor): `dataset_observations` on the examples shown, with the
 *   prior observations carried; only the new lines are returned, or COMPLETE when there are none,
 *   as DSPy appends them itself.
 * - `summary` (observation summarizer): the observations, unchanged.
 * - `proposed_instruction`: `proposed_instruction` with `basic_instruction` as the current prompt
 *   and every other field as the report where symptoms are read; the "creative" tip adds a
 *   distractor as it does for ours.
 * - anything else (program and module descriptions): one neutral sentence.
 *
 * Null for any other request.
 */
export function simulateDspyRequest(
  scenario: Scenario,
  messages: readonly { role?: string; content: string }[],
  seed: number,
): string | null {
  const system = messages.find((m) => m.role === 'system')?.content ?? '';
  const outputs = /Your output fields are:\n([\s\S]*?)(?:\n\n|$)/.exec(system)?.[1];
  const user = [...messages].reverse().find((m) => m.role === 'user')?.content;
  if (!outputs || user === undefined || !system.includes('[[ ## completed ## ]]')) return null;
  const names = [...outputs.matchAll(/^\d+\. `(\w+)`/gm)].map((m) => m[1]!);
  const fields = inputFields(user);
  const answers = names.map((name) => `[[ ## ${name} ## ]]\n${answer(scenario, name, fields, seed)}`);
  return `${answers.join('\n\n')}\n\n[[ ## completed ## ]]`;
}

/** `[[ ## name ## ]]` sections of the user turn, up to the output-format reminder. */
function inputFields(user: string): Map<string, string> {
  const body = user.split(/\n\nRespond with the corresponding output fields/)[0]!;
  const fields = new Map<string, string>();
  const parts = body.split(/^\[\[ ## (\w+) ## \]\]\n/m);
  for (let i = 1; i + 1 < parts.length; i += 2) fields.set(parts[i]!, parts[i + 1]!.trim());
  return fields;
}

function answer(scenario: Scenario, name: string, fields: ReadonlyMap<string, string>, seed: number): string {
  switch (name) {
    case 'observations': {
      const prior = fields.get('prior_observations') ?? '';
      const request = `<prior_observations>\n${prior}\n</prior_observations>\n${fields.get('examples') ?? ''}`;
      const { observations } = simulateTeacherTask(scenario, 'dataset_observations', request, seed) as {
        observations: string;
      };
      const known = new Set(prior.split('\n').map((l) => l.trim()));
      const added = observations.split('\n').filter((l) => !known.has(l.trim()));
      if (!fields.has('prior_observations')) return observations;
      return added.length && !added[0]!.startsWith('No pattern') ? added.join('\n') : 'COMPLETE';
    }
    case 'summary':
      return fields.get('observations') ?? '';
    case 'proposed_instruction': {
      const current = fields.get('basic_instruction') ?? scenario.basePrompt;
      const report = [...fields]
        .filter(([k]) => k !== 'basic_instruction')
        .map(([k, v]) => `${k}:\n${v}`)
        .join('\n\n');
      // Our template writes the tip as "Tip: …", which is what the creative rule looks for.
      const creative = /Don't be afraid to be creative/.test(fields.get('tip') ?? '')
        ? "\nTip: Don't be afraid to be creative when creating the new instruction!"
        : '';
      const request = `<current_prompt>\n${current}\n</current_prompt>\n\n${report}${creative}`;
      const { instruction } = simulateTeacherTask(scenario, 'proposed_instruction', request, seed) as {
        instruction: string;
      };
      return instruction;
    }
    default:
      return 'The program takes a customer conversation and produces the agent’s next step: one tool call or a reply.';
  }
}
