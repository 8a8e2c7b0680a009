import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { promptForAgent, withToolDescriptions } from '../../client/flywheel-client.js';
import type { ChatRequest, LlmClient } from '../../llm/llm-client.js';
import { renderCandidate } from '../../optimization/render-candidate.js';
import {
  changedComponents,
  componentsOfVersion,
  describeChanges,
  diffableText,
  isReleasable,
  shippedFormOfCandidate,
  shippedFormOfVersion,
  versionOfCandidate,
} from '../../registry/shipped-prompt.js';
import { CreatePromptRequest, PromptConfig } from '../../schemas/prompt.js';
import { generateTraffic, type ServedPrompt } from '../simulator/traffic.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';

const tools = [
  { name: 'book', description: 'Books a reservation.', parameters: {} },
  { name: 'cancel', description: 'Cancels a reservation.', parameters: {} },
];
const production = { text: 'You are a travel agent.', config: { temperature: 0.2 } };
/** The optimizer's baseline: production's components as served. */
const baseline = Object.fromEntries(componentsOfVersion(production, tools).map((c) => [c.component, c.text]));

describe('what ships is what was gated', () => {
  it('starts the optimizer from production as served: text, demos and every tool description', () => {
    assert.deepEqual(baseline, {
      system: 'You are a travel agent.',
      'tool:book': 'Books a reservation.',
      'tool:cancel': 'Cancels a reservation.',
    });
    const released = {
      text: 'You are a travel agent.',
      config: {
        toolDescriptions: { cancel: 'Cancels a reservation. Ask for the booking id.' },
        demos: 'Q: … A: …',
      },
    };
    assert.deepEqual(componentsOfVersion(released, tools), [
      { component: 'system', text: 'You are a travel agent.' },
      { component: 'demos', text: 'Q: … A: …' },
      { component: 'tool:book', text: 'Books a reservation.' },
      { component: 'tool:cancel', text: 'Cancels a reservation. Ask for the booking id.' },
    ]);
  });

  it('refuses a candidate whose shipped form equals production: not a candidate', () => {
    const serving = shippedFormOfVersion(production, tools);
    assert.equal(isReleasable(shippedFormOfCandidate(baseline, tools), serving), false);
    // Whitespace at the ends and an edit to a tool the agent does not have change nothing it does.
    const cosmetic = { ...baseline, system: '  You are a travel agent.\n', 'tool:refund': 'Refunds.' };
    assert.deepEqual(changedComponents(shippedFormOfCandidate(cosmetic, tools), serving), []);
    assert.equal(isReleasable(shippedFormOfCandidate(cosmetic, tools), serving), false);
    // A candidate with no tool components ships the agent's descriptions, as production does.
    assert.equal(isReleasable(shippedFormOfCandidate({ system: production.text }, tools), serving), false);
  });

  it('releases a tool-description-only candidate with the changed descriptions in the config', () => {
    const candidate = { ...baseline, 'tool:cancel': 'Cancels a reservation. Ask for the booking id.' };
    const serving = shippedFormOfVersion(production, tools);
    assert.deepEqual(changedComponents(shippedFormOfCandidate(candidate, tools), serving), ['tool:cancel']);
    assert.equal(isReleasable(shippedFormOfCandidate(candidate, tools), serving), true);
    const version = versionOfCandidate(candidate, tools, production.config);
    assert.deepEqual(version, {
      prompt: 'You are a travel agent.',
      // Production's model parameters are kept; only the changed description is carried.
      config: {
        temperature: 0.2,
        toolDescriptions: { cancel: 'Cancels a reservation. Ask for the booking id.' },
      },
    });
    assert.equal(describeChanges(['tool:cancel']), 'tool descriptions (cancel)');
    // The released version ships exactly the candidate.
    const shipped = shippedFormOfVersion({ text: version.prompt, config: version.config }, tools);
    assert.deepEqual(shipped, shippedFormOfCandidate(candidate, tools));
  });

  it('keeps a description an earlier release changed when the next release changes the system prompt', () => {
    const v2 = {
      text: 'You are a travel agent.',
      config: { toolDescriptions: { cancel: 'Cancel; ask for the id.' } },
    };
    const next = Object.fromEntries(componentsOfVersion(v2, tools).map((c) => [c.component, c.text]));
    const candidate = { ...next, system: 'You are a careful travel agent.' };
    assert.deepEqual(
      changedComponents(shippedFormOfCandidate(candidate, tools), shippedFormOfVersion(v2, tools)),
      ['system'],
    );
    const v3 = versionOfCandidate(candidate, tools, v2.config);
    assert.deepEqual(v3, {
      prompt: 'You are a careful travel agent.',
      config: { toolDescriptions: { cancel: 'Cancel; ask for the id.' } },
    });
    assert.equal(
      describeChanges(['demos', 'system', 'tool:book', 'tool:cancel']),
      'system prompt, demos, tool descriptions (book, cancel)',
    );
  });

  it('carries demos in the config and renders them as the gate did', () => {
    const candidate = { ...baseline, demos: 'Q: cancel my trip\nA: cancel(id)' };
    const version = versionOfCandidate(candidate, tools, {});
    assert.deepEqual(version, {
      prompt: 'You are a travel agent.',
      config: { demos: 'Q: cancel my trip\nA: cancel(id)' },
    });
    const texts = new Map(Object.entries(candidate).map(([c, t]) => [`id:${c}`, t]));
    const ids = Object.fromEntries(Object.keys(candidate).map((c) => [c, `id:${c}`]));
    const gated = renderCandidate(texts, ids, tools);
    const served = promptForAgent(
      { prompt: version.prompt, config: PromptConfig.parse(version.config) },
      tools,
    );
    assert.deepEqual(served, gated);
    assert.equal(served.systemPrompt, 'You are a travel agent.\n\nQ: cancel my trip\nA: cancel(id)');
  });

  it('applies a served version to the agent: demos appended, descriptions by name, other tools untouched', () => {
    const config = PromptConfig.parse({
      model: 'gpt-4o',
      toolDescriptions: { cancel: 'Cancel; ask for the id.', refund: 'not a tool of this agent' },
    });
    const applied = promptForAgent(
      {
        prompt: [
          { role: 'system', content: 'Sys.' },
          { role: 'user', content: 'hi' },
        ],
        config,
      },
      tools,
    );
    assert.equal(applied.systemPrompt, 'Sys.');
    assert.deepEqual(applied.tools, [tools[0], { ...tools[1], description: 'Cancel; ask for the id.' }]);
    assert.deepEqual(withToolDescriptions(tools, {}), tools);
    assert.equal(config.model, 'gpt-4o', 'other config keys pass through');
  });

  it('rejects a config whose tool descriptions are malformed, saying which key', () => {
    const parsed = CreatePromptRequest.safeParse({
      name: 'support',
      type: 'text',
      prompt: 'Hi.',
      actor: 'ops',
      config: { toolDescriptions: { cancel: '   ' } },
    });
    if (parsed.success) assert.fail('a blank tool description was accepted');
    assert.match(parsed.error.message, /tool description in toolDescriptions cannot be blank/);
    assert.equal(PromptConfig.safeParse({ toolDescriptions: ['cancel'] }).success, false);
  });

  it('diffs a tool-description-only release under the tool heading, and plain versions as their text', () => {
    const v2 = { text: production.text, config: { toolDescriptions: { cancel: 'Cancel; ask for the id.' } } };
    assert.equal(diffableText(production, tools, []), production.text);
    assert.equal(
      diffableText(production, tools, ['cancel']),
      'You are a travel agent.\n\n[tool cancel]\nCancels a reservation.\n',
    );
    assert.equal(
      diffableText(v2, tools, ['cancel']),
      'You are a travel agent.\n\n[tool cancel]\nCancel; ask for the id.\n',
    );
  });

  it("the simulator's traffic runs the agent with the served version's descriptions and demos", async () => {
    const scenario = loadScenario(AIRLINE_SCENARIO);
    const action = scenario.actions[0]!;
    const requests: ChatRequest[] = [];
    const agent: LlmClient = {
      model: 'recording',
      chat: (request) => {
        requests.push(request);
        return Promise.resolve({
          content: null,
          toolCalls: [{ name: action.name, arguments: '{}' }],
          usage: { promptTokens: 1, completionTokens: 1 },
          cached: false,
        });
      },
      embed: () => Promise.reject(new Error('not used')),
    };
    const candidateUsers = new Set<string>();
    const resolve = (unit: string): Promise<ServedPrompt> => {
      const candidate = Number(unit.replace(/\D/g, '')) % 2 === 0;
      if (candidate) candidateUsers.add(unit);
      return Promise.resolve(
        candidate
          ? {
              version: 2,
              text: 'Base.',
              config: { toolDescriptions: { [action.name]: 'CHANGED' }, demos: 'DEMOS' },
            }
          : { version: 1, text: 'Base.' },
      );
    };
    const records = await generateTraffic({
      scenario,
      agent,
      resolve,
      count: 40,
      start: new Date('2026-01-01T00:00:00Z'),
      spacingMs: 1000,
      seed: 3,
      idPrefix: 'unit',
    });
    assert.ok(candidateUsers.size > 0 && candidateUsers.size < 40);
    for (const [i, record] of records.entries()) {
      const request = requests[i]!;
      const description = request.tools?.find((t) => t.name === action.name)?.description;
      const system = request.messages[0]!.content;
      if (record.promptVersion === 2) {
        assert.ok(candidateUsers.has(record.userId!));
        assert.equal(description, 'CHANGED');
        assert.equal(system, 'Base.\n\nDEMOS');
      } else {
        assert.equal(description, action.description);
        assert.equal(system, 'Base.');
      }
    }
    assert.ok(records.some((r) => r.promptVersion === 2) && records.some((r) => r.promptVersion === 1));
  });
});
