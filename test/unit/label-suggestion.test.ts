import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkLabelSuggestion,
  labelSuggestionPrompt,
  type LabelSuggestion,
} from '../../annotation/label-suggestion.js';
import { labelMatchesSuggestion, suggestionUptake } from '../../annotation/suggestion-uptake.js';
import { draftFor, draftWithSuggestion, labelBody } from '../../console/src/api/label-draft.js';
import { annotationTemplate, withSuggestions } from '../../annotation/annotation-template.js';
import { AIRLINE_SCENARIO, loadScenario, scenarioTools } from '../simulator/scenario.js';
import { simulateLabelSuggestion } from '../simulator/simulated-labels.js';

const scenario = loadScenario(AIRLINE_SCENARIO);
const tools = scenarioTools(scenario);
const example = (id: string) => scenario.examples.find((e) => e.id === id)!;
const answer = (fields: Record<string, unknown>) =>
  JSON.stringify({
    verdict: 'fail',
    category: 'escalation',
    step: 'none',
    reply: '',
    tool: '',
    arguments: '',
    reason: 'Because.',
    ...fields,
  });

const item = (request: string, output: unknown) => ({
  input: {
    messages: [
      { role: 'system', content: 'SECRET SYSTEM PROMPT' },
      { role: 'user', content: request },
    ],
  },
  output,
  tools,
  judgeLabel: 'fail',
  judgeCategory: 'escalation',
  judgeExplanation: 'The agent answered a claim it should have handed over.',
  failingFinding: null,
});

describe('label suggestions: the request to the teacher and the check of its answer', () => {
  it("shows the tools with what they take, the conversation without the agent's prompt, the step and the evaluators' view", () => {
    const prompt = labelSuggestionPrompt(
      item(example('ex-004').request, { action: 'respond', content: 'Noted.' }),
    );
    assert.ok(prompt);
    const user = prompt[1]!.content ?? '';
    assert.match(user, /- transfer_to_human_agents.*\(takes /);
    assert.match(user, /<conversation>\n\[user\] Mia Li here/);
    assert.match(user, /<agent_step>\nReplied: Noted\.\n<\/agent_step>/);
    assert.match(user, /explanation: The agent answered a claim/);
    assert.doesNotMatch(user, /SECRET SYSTEM PROMPT/);
    const call = labelSuggestionPrompt(
      item('Hi', { action: 'get_user_details', arguments: { user_id: 'u1' } }),
    );
    assert.match(call?.[1]?.content ?? '', /Called tool get_user_details with arguments \{"user_id":"u1"\}/);
    assert.equal(labelSuggestionPrompt(item('Hi', 'not a step')), null, 'no step: nothing to suggest');
    assert.equal(labelSuggestionPrompt({ ...item('Hi', { action: 'respond' }), input: {} }), null);
  });

  it('takes a pass, a corrected reply and a call the tools accept; refuses what a label could not carry', () => {
    assert.deepEqual(checkLabelSuggestion(answer({ verdict: 'pass', category: 'none' }), tools), {
      ok: true,
      suggestion: { verdict: 'pass', category: null, expected: null, reason: 'Because.' },
    });
    const reply = checkLabelSuggestion(answer({ step: 'reply', reply: ' I can transfer you. ' }), tools);
    assert.deepEqual(reply.ok && reply.suggestion.expected, {
      action: 'respond',
      arguments: {},
      content: 'I can transfer you.',
    });
    const call = checkLabelSuggestion(
      answer({
        step: 'tool_call',
        tool: 'transfer_to_human_agents',
        arguments: JSON.stringify(example('ex-004').expected.arguments),
      }),
      tools,
    );
    assert.ok(call.ok, JSON.stringify(call));
    assert.equal(call.suggestion.expected?.action, 'transfer_to_human_agents');
    assert.equal(call.suggestion.category, 'escalation');

    const refused = (fields: Record<string, unknown>) => {
      const checked = checkLabelSuggestion(answer(fields), tools);
      assert.equal(checked.ok, false, JSON.stringify(fields));
      return checked.ok ? '' : checked.error;
    };
    assert.match(
      refused({ step: 'tool_call', tool: 'refund_everything', arguments: '{}' }),
      /not one of the agent's tools/,
    );
    assert.match(
      refused({ step: 'tool_call', tool: 'get_user_details', arguments: '{"user_id": ' }),
      /not a JSON object/,
    );
    assert.match(
      refused({ step: 'tool_call', tool: 'get_user_details', arguments: '[1]' }),
      /must be a JSON object/,
    );
    assert.match(
      refused({ step: 'tool_call', tool: 'get_user_details', arguments: '{"user": "u1"}' }),
      /do not fit the tool/,
    );
    assert.match(refused({ step: 'reply', reply: '  ' }), /reply is empty/);
    assert.match(refused({ reason: '' }), /reason is empty/);
    // A failure without a category the list has is filed as other, not refused.
    const uncategorised = checkLabelSuggestion(answer({ category: 'none' }), tools);
    assert.equal(uncategorised.ok && uncategorised.suggestion.category, 'other');
    assert.match(refused({ category: 'made_up' }), /category/);
    assert.equal(checkLabelSuggestion('not json', tools).ok, false);
  });

  it('counts a label as taking the suggestion only when verdict, category and step are the same (argument order aside)', () => {
    const suggestion: LabelSuggestion = {
      verdict: 'fail',
      category: 'argument_error',
      expected: { action: 'get_user_details', arguments: { user_id: 'u1', verbose: true } },
      reason: 'r',
    };
    const label = {
      verdict: 'fail',
      category: 'argument_error',
      expected: { action: 'get_user_details', arguments: { verbose: true, user_id: 'u1' } },
    };
    assert.ok(labelMatchesSuggestion(label, suggestion));
    assert.ok(!labelMatchesSuggestion({ ...label, category: 'other' }, suggestion));
    assert.ok(
      !labelMatchesSuggestion(
        { ...label, expected: { action: 'get_user_details', arguments: { user_id: 'u2' } } },
        suggestion,
      ),
    );
    assert.ok(!labelMatchesSuggestion({ ...label, expected: null }, suggestion));
    assert.ok(
      labelMatchesSuggestion(
        { verdict: 'pass', category: null, expected: null },
        { ...suggestion, verdict: 'pass', category: null, expected: null },
      ),
    );
    assert.deepEqual(
      suggestionUptake([
        { reviewer: 'a', label, suggestion },
        { reviewer: 'a', label: { ...label, verdict: 'pass' }, suggestion },
        { reviewer: 'b', label, suggestion },
      ]),
      { labelled: 3, taken: 2, byReviewer: { a: { labelled: 2, taken: 1 }, b: { labelled: 1, taken: 1 } } },
    );
  });

  it("fills the reviewer's form with the suggestion, keeping what else they wrote, into a label the API takes", () => {
    const draft = { ...draftFor('escalation'), comment: 'checked the policy', verdict: 'pass' as const };
    const toolDraft = draftWithSuggestion(draft, {
      verdict: 'fail',
      category: 'escalation',
      expected: { action: 'transfer_to_human_agents', arguments: { summary: 'damaged bag claim' } },
      reason: 'r',
      model: 'm',
      createdAt: '2026-12-07T00:00:00.000Z',
    });
    assert.deepEqual(labelBody(toolDraft), {
      verdict: 'fail',
      category: 'escalation',
      expected: { action: 'transfer_to_human_agents', arguments: { summary: 'damaged bag claim' } },
      comment: 'checked the policy',
    });
    const passDraft = draftWithSuggestion(toolDraft, {
      verdict: 'pass',
      category: null,
      expected: null,
      reason: 'r',
      model: 'm',
      createdAt: '2026-12-07T00:00:00.000Z',
    });
    assert.deepEqual(labelBody(passDraft), { verdict: 'pass', comment: 'checked the policy' });
  });
});

describe('the batch template with suggestions taken', () => {
  it("takes a suggestion's verdict, category and step over the judge's, says who suggested it, and keeps the judge's prefill where there is none", () => {
    const item = (id: string) => ({
      id,
      status: 'pending',
      judge_label: 'fail',
      judge_category: 'wrong_tool',
      judge_explanation: 'x',
      failing_step: null,
      failing_finding: null,
      input: {},
      output: {},
    });
    const template = annotationTemplate('q', 'rita', [item('a'), item('b'), item('c')]);
    const taken = withSuggestions(
      template,
      new Map([
        [
          'a',
          {
            suggestion: {
              verdict: 'pass' as const,
              category: null,
              expected: null,
              reason: 'Fine.',
              model: 'm',
            },
            unavailable: null,
          },
        ],
        ['b', { suggestion: null, unavailable: 'no teacher model is configured' }],
      ]),
    );
    const [a, b, c] = taken.labels;
    assert.equal(a?.verdict, 'pass');
    assert.equal('category' in (a ?? {}), false, "the judge's category does not stay on a pass");
    const suggested = (label: unknown) => (label as { context: { suggested?: unknown } }).context.suggested;
    assert.deepEqual(suggested(a), { by: 'm', reason: 'Fine.' });
    assert.deepEqual([b?.verdict, b?.category], ['fail', 'tool_selection']);
    assert.deepEqual(suggested(b), { unavailable: 'no teacher model is configured' });
    assert.deepEqual(c, template.labels[2]);
  });
});

describe('the simulated teacher suggesting labels', () => {
  const request = (id: string, step: string) =>
    `<conversation>\n[user] ${example(id).request}\n</conversation>\n<agent_step>\n${step}\n</agent_step>`;
  const right = { ...scenario, teacher: { precision: 1 } };
  const wrong = { ...scenario, teacher: { precision: 0 } };

  it('suggests the ground truth at the precision it is given, and a plausible wrong fix otherwise', () => {
    const moved = request('ex-001', 'Called tool update_reservation_flights with arguments {}');
    assert.deepEqual(simulateLabelSuggestion(right, moved), {
      verdict: 'fail',
      category: 'policy_violation',
      step: 'reply',
      reply: example('ex-001').reply,
      tool: '',
      arguments: '',
      reason: `The request falls under the rule: ${scenario.rules.find((r) => r.id === 'basic_economy_no_changes')!.description}`,
    });
    const bag = simulateLabelSuggestion(right, request('ex-004', 'Replied: Noted.'));
    assert.equal(bag.tool, 'transfer_to_human_agents');
    assert.deepEqual(JSON.parse(String(bag.arguments)), example('ex-004').expected.arguments);
    assert.equal(simulateLabelSuggestion(wrong, request('ex-004', 'Replied: Noted.')).step, 'reply');
    const done = request('ex-004', 'Called tool transfer_to_human_agents with arguments {}');
    assert.equal(simulateLabelSuggestion(right, done).verdict, 'pass');
    assert.equal(simulateLabelSuggestion(wrong, done).verdict, 'fail');
    // Its answers pass the product's check (the reply, the call) as a model's must.
    for (const answered of [simulateLabelSuggestion(right, moved), bag])
      assert.ok(checkLabelSuggestion(JSON.stringify(answered), tools).ok, JSON.stringify(answered));
  });
});
