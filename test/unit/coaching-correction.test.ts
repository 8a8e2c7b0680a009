import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  behaviourFromCorrection,
  lastRequest,
  pickCorrection,
  recallMessages,
  suggestSituation,
} from '../../coaching/coaching-correction.js';

describe("a reviewer's correction as coaching", () => {
  it('suggests the situation from the request the agent answered, on one line, quoted and cut short', () => {
    const messages = recallMessages([
      { role: 'system', content: 'You are an airline agent.' },
      { role: 'user', content: 'Cancel my flight' },
      { role: 'assistant', content: 'Which reservation?' },
      { role: 'user', content: '  Reservation ZFA04Y,\n  basic economy.  ' },
      { role: 'assistant', content: null },
    ]);
    assert.equal(suggestSituation(messages), 'When replying to: "Reservation ZFA04Y, basic economy."');
    assert.equal(lastRequest(messages), 'Reservation ZFA04Y,\n  basic economy.');
    const long = suggestSituation([{ role: 'user', content: 'x'.repeat(1000) }])!;
    assert.equal(long.length, 'When replying to: ""'.length + 300);
    assert.ok(long.endsWith('…"'));
    assert.equal(
      suggestSituation([
        { role: 'system', content: 'hi' },
        { role: 'user', content: ' ' },
      ]),
      null,
    );
  });

  it('reads stored messages leniently: unknown roles and malformed entries are skipped', () => {
    assert.deepEqual(
      recallMessages([
        { role: 'user', content: 'a' },
        { role: 'human', content: 'b' },
        null,
        'c',
        { role: 'tool' },
      ]),
      [
        { role: 'user', content: 'a' },
        { role: 'tool', content: '' },
      ],
    );
    assert.deepEqual(recallMessages({ messages: [] }), []);
  });

  it('makes a reply of a corrected reply and a tool call of a corrected tool call', () => {
    assert.deepEqual(behaviourFromCorrection({ action: 'respond', arguments: {}, content: ' No. ' }), {
      kind: 'reply',
      text: 'No.',
    });
    assert.equal(behaviourFromCorrection({ action: 'respond', arguments: {}, content: '  ' }), null);
    assert.equal(behaviourFromCorrection({ action: 'respond', arguments: {} }), null);
    assert.deepEqual(
      behaviourFromCorrection({ action: 'cancel_reservation', arguments: { reservation_id: 'ZFA04Y' } }),
      { kind: 'tool_call', tool: 'cancel_reservation', arguments: { reservation_id: 'ZFA04Y' } },
    );
  });

  it("takes the caller's own latest correction, else the latest of anyone, and none without one", () => {
    const at = (minute: number) => new Date(Date.UTC(2026, 11, 7, 9, minute));
    const labels = [
      { reviewer: 'rita', expected: { action: 'a' }, createdAt: at(1) },
      { reviewer: 'ruth', expected: { action: 'b' }, createdAt: at(3) },
      { reviewer: 'rita', expected: { action: 'c' }, createdAt: at(2) },
      { reviewer: 'otto', expected: null, createdAt: at(4) },
    ];
    assert.deepEqual(pickCorrection(labels, 'rita')?.expected, { action: 'c' });
    assert.deepEqual(pickCorrection(labels, 'otto')?.expected, { action: 'b' });
    assert.equal(pickCorrection([labels[3]!], 'otto'), null);
  });
});
