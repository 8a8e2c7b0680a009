import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ItemAnnotationRequest } from '../../schemas/annotation.js';
import {
  argumentsPrefilled,
  emptyDraft,
  labelBody,
  withTool,
  type LabelDraft,
} from '../../console/src/api/label-draft.js';
import {
  argumentLines,
  parseArgumentLines,
  sampledAction,
  sampledMessages,
} from '../../console/src/api/sampled-trace.js';

const draft = (patch: Partial<LabelDraft>): LabelDraft => ({ ...emptyDraft(), ...patch });
/** What the form says to fix instead of sending. */
const problem = (d: LabelDraft): string => {
  const body = labelBody(d);
  if (typeof body !== 'string') throw new Error(`sent ${JSON.stringify(body)}`);
  return body;
};
/** What the API would store from the body the console sends (the route adds the reviewer). */
const accepted = (body: unknown) => ItemAnnotationRequest.parse({ ...(body as object), reviewer: 'rita' });

describe('the web console label form', () => {
  it('asks for a verdict before anything is sent', () => {
    assert.match(problem(emptyDraft()), /Choose a verdict first/);
  });

  it('sends a pass as the verdict alone, without the failure fields a reviewer filled before switching', () => {
    const body = labelBody(
      draft({ verdict: 'pass', category: 'tool_selection', expected: 'reply', reply: 'Hello' }),
    );
    assert.deepEqual(body, { verdict: 'pass' });
    assert.deepEqual(accepted(body), { verdict: 'pass', reviewer: 'rita' });
  });

  it('turns a failure with a corrected reply, a comment, scores and dimension labels into a body the API accepts', () => {
    const body = labelBody(
      draft({
        verdict: 'fail',
        category: 'missing_confirmation',
        expected: 'reply',
        reply: 'Shall I cancel it?',
        comment: 'asks first',
        scores: { tone: 'polite', helpfulness: 4, resolved: false, skipped: '' },
        dimensions: { tool_selection: 'fail', task_completion: '' },
      }),
    );
    assert.deepEqual(accepted(body), {
      verdict: 'fail',
      category: 'missing_confirmation',
      expected: { action: 'respond', arguments: {}, content: 'Shall I cancel it?' },
      comment: 'asks first',
      scores: { tone: 'polite', helpfulness: 4, resolved: false },
      dimensions: { tool_selection: 'fail' },
      reviewer: 'rita',
    });
  });

  it('writes an expected tool call from name: value lines, with numbers, booleans and text', () => {
    const body = labelBody(
      draft({
        verdict: 'fail',
        expected: 'tool',
        tool: ' cancel_reservation ',
        toolArguments:
          'reservation_id: M8N7B6\nrefund: true\namount: 120.5\n\nreason: plans changed: no trip',
      }),
    );
    assert.deepEqual(accepted(body).expected, {
      action: 'cancel_reservation',
      arguments: { reservation_id: 'M8N7B6', refund: true, amount: 120.5, reason: 'plans changed: no trip' },
    });
  });

  it('says which line of the tool arguments to fix, and what to fill in for an empty reply or tool', () => {
    assert.match(
      problem(draft({ verdict: 'fail', expected: 'tool', tool: 'x', toolArguments: 'a: 1\nno colon' })),
      /Line 2 needs the form "name: value"/,
    );
    assert.match(problem(draft({ verdict: 'fail', expected: 'reply' })), /corrected reply/);
    assert.match(problem(draft({ verdict: 'fail', expected: 'tool' })), /Name the tool/);
  });

  it('starts the expected call from the agent arguments, and reads them back unchanged', () => {
    const args = { reservation_id: 'M8N7B6', passengers: 2, flags: ['a'], seat: { row: 3 }, note: 'x: y' };
    assert.deepEqual(parseArgumentLines(argumentLines(args)).args, args);
  });

  it("clears the agent's arguments when another tool is named, and keeps a reviewer's own", () => {
    const prefilled = { tool: 'send_certificate', toolArguments: 'amount: 150\nuser_id: ava_patel_1333' };
    const draft: LabelDraft = {
      ...emptyDraft(),
      verdict: 'fail',
      expected: 'tool',
      tool: prefilled.tool,
      toolArguments: prefilled.toolArguments,
      prefilled,
    };
    assert.equal(argumentsPrefilled(draft), true);
    // A first-use trial typed "reservation_id: R2D2XY" after these and saved user_id "ava_patel_1333reservation_id: R2D2XY".
    assert.deepEqual(withTool(draft, 'get_reservation_details'), {
      tool: 'get_reservation_details',
      toolArguments: '',
    });
    assert.deepEqual(withTool(draft, 'send_certificate'), { tool: 'send_certificate' });
    const edited = { ...draft, toolArguments: 'amount: 100' };
    assert.equal(argumentsPrefilled(edited), false);
    assert.deepEqual(withTool(edited, 'get_reservation_details'), { tool: 'get_reservation_details' });
    assert.deepEqual(withTool({ ...emptyDraft(), toolArguments: 'x: 1' }, 'a'), { tool: 'a' });
  });

  it('reads the sampled conversation defensively: odd messages keep what they have', () => {
    assert.deepEqual(sampledMessages(null), []);
    assert.deepEqual(
      sampledMessages({
        messages: [
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c1', name: 'search', arguments: { q: 'x' } }],
          },
          { role: 'tool', content: 'found', tool_call_id: 'c1' },
          { role: 'chatbot', content: 3 },
          'not a message',
        ],
      }),
      [
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', name: 'search', arguments: { q: 'x' } }],
        },
        { role: 'tool', content: 'found', tool_call_id: 'c1' },
        { role: 'user', content: null },
      ],
    );
    assert.equal(sampledAction({ nope: 1 }), null);
    assert.deepEqual(sampledAction({ action: 'respond', content: 'Hi' }), {
      action: 'respond',
      arguments: {},
      content: 'Hi',
    });
  });
});
