import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkMigrationAnswer,
  instructionMigrationPrompt,
  promptWithout,
} from '../../coaching/instruction-migration.js';
import { migrateContextualInstructions } from '../../coaching/instruction-migration-service.js';
import { localSituationEmbedder } from '../../coaching/situation-embedder.js';
import type { Db } from '../../db/connection.js';
import { UserError } from '../../schemas/user-error.js';
import { simulateInstructionMigration } from '../simulator/simulated-coaching.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';

const PROMPT =
  'You are an airline agent. Be polite.\nWhen a customer asks to move a basic economy flight, explain that it cannot be changed.\nIf a customer asks for a human, transfer them.';
const item = (over: Record<string, string>) => ({
  instruction: 'When a customer asks to move a basic economy flight, explain that it cannot be changed.',
  situation: 'When a customer asks to move a basic economy flight',
  kind: 'reply',
  text: 'Basic economy flights cannot be changed; I can cancel it instead.',
  tool: '',
  arguments: '',
  ...over,
});
const answer = (...items: Record<string, string>[]) => JSON.stringify({ instructions: items });
const TOOLS = ['cancel_reservation', 'transfer_to_human_agents'];

describe('migrating contextual instructions: the check of the teacher answer', () => {
  it('accepts instructions written in the prompt, with a situation and a valid step of each kind', () => {
    const checked = checkMigrationAnswer(
      answer(
        item({}),
        item({
          instruction: 'If a customer asks for a human, transfer them.',
          situation: 'When a customer asks to speak to a human.',
          kind: 'tool_call',
          text: '',
          tool: 'transfer_to_human_agents',
          arguments: '{"summary":"wants a human"}',
        }),
      ),
      PROMPT,
      TOOLS,
    );
    assert.ok(checked.ok, JSON.stringify(checked));
    assert.deepEqual(checked.instructions[0]!.behaviour, {
      kind: 'reply',
      text: 'Basic economy flights cannot be changed; I can cancel it instead.',
    });
    assert.equal(
      checked.instructions[1]!.situation,
      'When a customer asks to speak to a human',
      'no full stop',
    );
    assert.deepEqual(checked.instructions[1]!.behaviour, {
      kind: 'tool_call',
      tool: 'transfer_to_human_agents',
      arguments: { summary: 'wants a human' },
    });
    assert.deepEqual(checkMigrationAnswer(answer(), PROMPT, TOOLS), { ok: true, instructions: [] });
  });

  it('refuses what would remove the wrong text or save an unusable coaching, saying what to fix', () => {
    const refused = (content: string, pattern: RegExp) => {
      const checked = checkMigrationAnswer(content, PROMPT, TOOLS);
      assert.ok(!checked.ok, content);
      assert.match(checked.error, pattern);
    };
    refused('not json', /not JSON/);
    refused('{"instructions": 3}', /instructions/);
    refused(
      answer(item({ instruction: 'When a customer asks to move a flight, say no.' })),
      /not written in the prompt exactly/,
    );
    refused(answer(item({ instruction: 'a customer asks' })), /more than once/);
    refused(answer(item({}), item({ instruction: 'explain that it cannot be changed.' })), /overlaps/);
    refused(answer(item({ situation: 'Basic economy moves' })), /must start with "When"/);
    refused(answer(item({ situation: `When ${'very '.repeat(40)}long` })), /more than 30 words/);
    refused(answer(item({ text: '' })), /the step of instruction 1/);
    refused(answer(item({ kind: 'tool_call', tool: 'rebook', text: '' })), /not one of the agent's tools/);
    refused(answer(item({ kind: 'tool_call', tool: 'cancel_reservation', arguments: '{oops' })), /not JSON/);
  });

  it('shows the teacher the prompt and the tools it may name', () => {
    const [system, user] = instructionMigrationPrompt(PROMPT, [
      { name: 'cancel_reservation', description: 'Cancel.' },
    ]);
    assert.match(system!.content, /contextual instruction/);
    assert.ok(user!.content.includes(PROMPT));
    assert.match(user!.content, /- cancel_reservation: Cancel\./);
  });
});

describe('the prompt without the migrated instructions', () => {
  it('cuts an instruction out of a line, a line it leaves empty, and a list item with its marker', () => {
    assert.equal(
      promptWithout('You are an agent. When X, say Y. Be polite.', ['When X, say Y.']),
      'You are an agent. Be polite.',
    );
    assert.equal(
      promptWithout('You are an agent.\nWhen X, say Y.\nBe polite.', ['When X, say Y.']),
      'You are an agent.\nBe polite.',
    );
    assert.equal(
      promptWithout('Rules:\n- When X, say Y.\n- Be polite.\n', ['When X, say Y.']),
      'Rules:\n- Be polite.',
    );
    assert.equal(promptWithout('A.\n\nWhen X, say Y.\n\nB.', ['When X, say Y.']), 'A.\n\nB.');
    assert.equal(promptWithout('A. When X, say Y.', ['missing']), 'A. When X, say Y.');
  });
});

describe('migration refusals before any model call', () => {
  const db = {} as Db;
  it('refuses a malformed request without reading or storing anything', async () => {
    const deps = { db, embedder: localSituationEmbedder(), teacher: null };
    await assert.rejects(
      migrateContextualInstructions(deps, 'demo', { version: 0 }, 'user:otto'),
      (e: unknown) => e instanceof UserError && /migration request is not valid/.test(e.message),
    );
  });
});

describe('the simulated teacher migrating instructions', () => {
  const scenario = loadScenario(AIRLINE_SCENARIO);
  it("names each sentence that states a scenario rule, with that rule's situation and expected step", () => {
    const rule = scenario.rules[0]!;
    const sentence = `When asked, remember that ${rule.fixingPhrases[0]}.`;
    const prompt = `${scenario.basePrompt}\n- ${sentence}`;
    const { instructions } = simulateInstructionMigration(
      scenario,
      `<system_prompt>\n${prompt}\n</system_prompt>`,
    );
    assert.equal(instructions.length, 1);
    assert.equal(instructions[0]!.instruction, sentence);
    const checked = checkMigrationAnswer(
      JSON.stringify({ instructions }),
      prompt,
      scenario.actions.map((a) => a.name),
    );
    assert.ok(checked.ok, JSON.stringify(checked));
    assert.match(checked.instructions[0]!.situation, /^When a customer asks about/);
  });
});
