import { writeFileSync } from 'node:fs';
import { Scenario } from '../test/simulator/scenario.js';

/**
 * The same scenario as a file in the documented format (test/simulator/README.md), for
 * tools that take `--scenario FILE` (bench:flywheel). A unit test keeps it equal to
 * `syntheticScenario()`; regenerate it with
 * `npx tsx -e "import('./bench/synthetic-scenario.ts').then(m => m.writeSyntheticScenarioFile())"`.
 */
export const SYNTHETIC_SCENARIO_FILE = new URL('./scenarios/synthetic-12.json', import.meta.url).pathname;

/**
 * A larger simulator scenario for bench:optimizers: 12 hidden policy rules across three
 * clusters of requests, 10 examples per rule and 120 routine requests, two over-broad
 * phrases that fix one rule each and break routine requests, and a teacher that names the
 * right fix half the time. Different rules matter for different requests, which is where
 * Pareto selection should pay off; random rewrites rarely fix all twelve at once.
 */
const TOPICS = [
  ['pet carrier', 'pets must travel in an approved carrier under the seat', 'escalation'],
  [
    'unaccompanied minor',
    'minors travelling alone need the unaccompanied minor service form',
    'policy_violation',
  ],
  [
    'wheelchair',
    'always offer wheelchair assistance at booking when mobility needs are mentioned',
    'policy_violation',
  ],
  ['group booking', 'group bookings of ten or more go to the group desk', 'escalation'],
  ['lost bag', 'file a lost baggage report before offering compensation', 'missing_confirmation'],
  [
    'seat upgrade',
    'quote the upgrade fee and ask for confirmation before upgrading a seat',
    'missing_confirmation',
  ],
  ['name correction', 'name corrections are limited to three characters', 'policy_violation'],
  ['travel insurance', 'travel insurance can only be added within 24 hours of booking', 'policy_violation'],
  ['loyalty miles', 'verify the loyalty number before transferring miles', 'tool_selection'],
  ['refund voucher', 'offer a voucher only when the user declines a cash refund', 'policy_violation'],
  ['visa', 'never give visa advice; point the user to the embassy', 'escalation'],
  ['infant', 'infants under two travel on a lap and need an infant ticket', 'tool_selection'],
] as const;

const ACTIONS = [
  'respond',
  'transfer_to_human_agents',
  'update_reservation',
  'book_reservation',
  'get_reservation_details',
];

export function syntheticScenario(): Scenario {
  const rules = TOPICS.map(([topic, phrase, category], k) => ({
    id: `rule_${k}`,
    category,
    description: `${phrase[0]!.toUpperCase()}${phrase.slice(1)}.`,
    fixingPhrases: [phrase],
    symptoms: [topic],
    judgeRationale: `The agent mishandled a ${topic} request.`,
    feedback: [`The agent got my ${topic} request wrong.`],
  }));
  const examples: Scenario['examples'] = [];
  TOPICS.forEach(([topic], k) => {
    for (let n = 0; n < 10; n++) {
      const expected = ACTIONS[k % ACTIONS.length]!;
      const wrong = ACTIONS[(k + 1 + (n % 2)) % ACTIONS.length]!;
      examples.push({
        id: `syn-${k}-${n}`,
        request: `Case ${k * 10 + n}: I need help with a ${topic} question for booking REF${100 + k * 10 + n}.`,
        rule: `rule_${k}`,
        tags: [`cluster_${k % 3}`],
        expected: { action: expected, arguments: {} },
        wrong: { action: wrong, arguments: {} },
        reply: 'Here is what our policy says.',
      });
    }
  });
  for (let n = 0; n < 120; n++) {
    const expected = ACTIONS[2 + (n % 3)]!;
    examples.push({
      id: `routine-${n}`,
      request: `Routine ${n}: please look after reservation RT${1000 + n} for me.`,
      rule: null,
      tags: ['routine'],
      expected: { action: expected, arguments: {} },
      wrong: { action: 'respond', arguments: {} },
      reply: 'Done.',
    });
  }
  return Scenario.parse({
    name: 'synthetic-12',
    description: 'Twelve hidden rules in three clusters, with routine traffic that over-broad rules break.',
    seed: 1207,
    agentId: 'synthetic',
    basePrompt:
      'You are a customer service agent for an airline. Use the tools available to you and be accurate and polite.\nMake one tool call at a time.',
    actions: ACTIONS.map((name) => ({
      name,
      description: `The ${name} tool.`,
      parameters: { type: 'object', properties: {} },
    })),
    rules,
    overBroad: [
      {
        phrase: 'Transfer anything unusual to a human agent.',
        fixes: ['rule_3'],
        breaks: { tags: ['routine'], action: { action: 'transfer_to_human_agents', arguments: {} } },
      },
      {
        phrase: 'Always answer in text instead of using tools when unsure.',
        fixes: ['rule_10'],
        breaks: { tags: ['routine'], action: { action: 'respond', arguments: {} } },
      },
    ],
    distractors: [
      'Always greet the user warmly.',
      'Keep answers short and friendly.',
      'Thank the user for flying with us.',
      'Use a professional tone.',
    ],
    examples,
    noise: { agent: 0.02, judge: 0.05, feedback: 0.1 },
    teacher: { precision: 0.5 },
    traffic: { expectedShare: 0.5, positiveFeedbackShare: 0.5 },
  });
}

export function writeSyntheticScenarioFile(file = SYNTHETIC_SCENARIO_FILE): void {
  writeFileSync(file, `${JSON.stringify(syntheticScenario(), null, 2)}\n`);
}
