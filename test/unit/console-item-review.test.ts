import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ItemAnnotationRequest } from '../../schemas/annotation.js';
import { plainExplanation, plainFinding } from '../../console/src/api/explanation.js';
import { draftFor, draftFromLabel, labelBody } from '../../console/src/api/label-draft.js';
import { argumentLines, parseArgumentLines } from '../../console/src/api/sampled-trace.js';
import type { OwnLabel } from '../../console/src/api/types.js';

const stored = (patch: Partial<OwnLabel>): OwnLabel => ({
  verdict: 'fail',
  category: null,
  expected: null,
  comment: null,
  dimensions: {},
  scores: {},
  slices: [],
  labelledAt: '2026-12-07T10:00:00.000Z',
  ...patch,
});

describe('the item page of the web console', () => {
  it("starts the label from the judge's failure category when a label can carry it", () => {
    assert.equal(draftFor('tool_selection').category, 'tool_selection');
    assert.equal(
      draftFor('my_custom_check').category,
      '',
      'a name the form does not list is not preselected',
    );
    assert.equal(draftFor(null).category, '');
    // Preselected, it is still sent only with a fail verdict.
    assert.deepEqual(labelBody({ ...draftFor('escalation'), verdict: 'pass' }), { verdict: 'pass' });
    assert.deepEqual(labelBody({ ...draftFor('escalation'), verdict: 'fail' }), {
      verdict: 'fail',
      category: 'escalation',
    });
  });

  it('reopens a stored label with every field as the reviewer left it, and sends it back unchanged', () => {
    const label = stored({
      category: 'argument_error',
      expected: { action: 'get_reservation_details', arguments: { reservation_id: '004512' } },
      comment: 'wrong id',
      scores: { tone: 'polite' },
      dimensions: { tool_selection: 'pass' },
      slices: ['adversarial'],
    });
    const draft = draftFromLabel(label);
    assert.equal(draft.expected, 'tool');
    assert.equal(draft.toolArguments, 'reservation_id: "004512"', 'digits that are text are quoted');
    const body = labelBody(draft);
    assert.deepEqual(body, {
      verdict: 'fail',
      category: 'argument_error',
      expected: { action: 'get_reservation_details', arguments: { reservation_id: '004512' } },
      comment: 'wrong id',
      scores: { tone: 'polite' },
      dimensions: { tool_selection: 'pass' },
      slices: ['adversarial'],
    });
    assert.ok(ItemAnnotationRequest.safeParse({ ...(body as object), reviewer: 'rita' }).success);
    const reply = draftFromLabel(
      stored({ verdict: 'fail', expected: { action: 'respond', arguments: {}, content: 'Sorry.' } }),
    );
    assert.deepEqual([reply.expected, reply.reply, reply.tool], ['reply', 'Sorry.', '']);
    assert.deepEqual(labelBody(draftFromLabel(stored({ verdict: 'pass' }))), { verdict: 'pass' });
  });

  it('keeps text that reads as a number or a boolean as text through the argument lines', () => {
    const args = { zip: '02139', flag: 'true', count: 3, padded: ' x ', note: 'plain text' };
    assert.deepEqual(parseArgumentLines(argumentLines(args)).args, args);
    assert.deepEqual(parseArgumentLines('zip: "02139"\nn: 02139').args, { zip: '02139', n: 2139 });
  });

  it("shows a code check's explanation without JSON, and a finding without the evaluator's name", () => {
    const explanation =
      'expected respond {}, the agent did cancel_reservation {"reservation_id":"M8N7B6","refund":true}';
    assert.equal(
      plainExplanation(explanation),
      'expected a reply, the agent did cancel_reservation (reservation_id: M8N7B6, refund: true)',
    );
    assert.equal(plainExplanation('the agent did get_user_details {}'), 'the agent did get_user_details');
    assert.equal(
      plainExplanation('The agent failed to respond politely (2/3 samples agree)'),
      'The agent failed to respond politely (2/3 samples agree)',
      "a judge's words are left alone",
    );
    assert.equal(plainExplanation('a brace { that is not JSON'), 'a brace { that is not JSON');
    assert.deepEqual(plainFinding(`expected_step_match: wrong_tool — ${explanation}`), {
      kind: 'wrong tool',
      detail: plainExplanation(explanation),
    });
    assert.deepEqual(plainFinding('something odd'), { kind: null, detail: 'something odd' });
  });
});
