import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { addCounts, compileRedactor, RedactionConfig } from '../../traces/pii-redaction.js';
import { sharedDataset } from '../../scripts/shared-datasets.js';

const redactor = compileRedactor();

const table: { name: string; input: string; text: string; counts: Record<string, number> }[] = [
  // Positives, one per kind and shape.
  {
    name: 'email',
    input: 'Write to john.doe+trips@example.co.uk.',
    text: 'Write to [EMAIL].',
    counts: { email: 1 },
  },
  { name: 'E.164 phone', input: 'Call +14155552671 now', text: 'Call [PHONE] now', counts: { phone: 1 } },
  {
    name: 'grouped international phone',
    input: 'London office: +44 20 7946 0958.',
    text: 'London office: [PHONE].',
    counts: { phone: 1 },
  },
  { name: 'phone with area code', input: '(415) 555-2671', text: '[PHONE]', counts: { phone: 1 } },
  {
    name: 'dashed phone',
    input: 'my number is 415-555-2671',
    text: 'my number is [PHONE]',
    counts: { phone: 1 },
  },
  { name: 'dotted phone', input: '415.555.2671', text: '[PHONE]', counts: { phone: 1 } },
  {
    name: 'two phones',
    input: '+1 (415) 555-2671 or 1-415-555-2672',
    text: '[PHONE] or [PHONE]',
    counts: { phone: 2 },
  },
  { name: 'card with spaces', input: 'card 4111 1111 1111 1111', text: 'card [CARD]', counts: { card: 1 } },
  {
    name: 'card with dashes',
    input: '5500-0000-0000-0004 exp 12/27',
    text: '[CARD] exp 12/27',
    counts: { card: 1 },
  },
  { name: 'compact card', input: 'pay with 4012888888881881', text: 'pay with [CARD]', counts: { card: 1 } },
  { name: 'amex layout', input: 'amex 3782 822463 10005', text: 'amex [CARD]', counts: { card: 1 } },
  {
    name: 'card next to other numbers',
    input: 'card 4111111111111111 for 5 bags on 2024-05-20',
    text: 'card [CARD] for 5 bags on 2024-05-20',
    counts: { card: 1 },
  },
  {
    name: 'spaced IBAN',
    input: 'IBAN DE89 3704 0044 0532 0130 00, thanks',
    text: 'IBAN [IBAN], thanks',
    counts: { iban: 1 },
  },
  { name: 'compact IBAN', input: 'GB82WEST12345698765432', text: '[IBAN]', counts: { iban: 1 } },
  {
    name: 'short IBAN before a word',
    input: 'NO93 8601 1117 947 from',
    text: '[IBAN] from',
    counts: { iban: 1 },
  },
  { name: 'IPv4', input: 'from 192.168.1.25.', text: 'from [IP].', counts: { ip: 1 } },
  {
    name: 'full IPv6',
    input: 'host 2001:0db8:85a3:0000:0000:8a2e:0370:7334 up',
    text: 'host [IP] up',
    counts: { ip: 1 },
  },
  {
    name: 'compressed IPv6',
    input: 'fe80::1ff:fe23:4567:890a and 2001:db8::1',
    text: '[IP] and [IP]',
    counts: { ip: 2 },
  },
  { name: 'IPv4-mapped IPv6', input: '::ffff:192.0.2.1', text: '[IP]', counts: { ip: 1 } },
  {
    name: 'several kinds at once',
    input: 'I am a@b.io, +14155552671, card 4111-1111-1111-1111, ip 10.0.0.7',
    text: 'I am [EMAIL], [PHONE], card [CARD], ip [IP]',
    counts: { email: 1, phone: 1, card: 1, ip: 1 },
  },
  // Negatives: agent traffic that must survive.
  { name: 'date and time', input: 'The current time is 2024-05-15 15:00:00 EST.', text: '', counts: {} },
  { name: 'flight numbers and codes', input: 'Flight HAT136 on reservation ZFA04Y', text: '', counts: {} },
  { name: 'user and payment ids', input: 'mia_li_3668 paid with credit_card_4421486', text: '', counts: {} },
  {
    name: 'prices and small numbers',
    input: 'Total $1,234.56 for 3 bags, 2 passengers',
    text: '',
    counts: {},
  },
  { name: 'bare ten digits', input: 'confirmation 4155552671', text: '', counts: {} },
  { name: 'Luhn-failing card', input: 'card 4111 1111 1111 1112', text: '', counts: {} },
  { name: 'IBAN with a wrong check digit', input: 'DE88 3704 0044 0532 0130 00', text: '', counts: {} },
  { name: 'octet over 255', input: '999.1.1.1', text: '', counts: {} },
  { name: 'version number', input: 'version 1.2.3.4.5', text: '', counts: {} },
  { name: 'times and MACs are not IPv6', input: '15:00:00 and 00:1A:2B:3C:4D:5E', text: '', counts: {} },
  { name: 'loopback and slices are too short', input: '::1 and a[::2]', text: '', counts: {} },
];

describe('PII redaction', () => {
  for (const row of table) {
    it(`redacts: ${row.name}`, () => {
      const out = redactor.redactText(row.input);
      assert.equal(out.text, row.text === '' ? row.input : row.text);
      assert.deepEqual(out.counts, row.counts);
    });
  }

  it('honors disabled kinds', () => {
    const r = compileRedactor({ kinds: { email: false, ip: false } });
    const out = r.redactText('a@b.io from 10.0.0.7, card 4111111111111111');
    assert.equal(out.text, 'a@b.io from 10.0.0.7, card [CARD]');
    assert.deepEqual(out.counts, { card: 1 });
  });

  it('applies custom patterns first, with upper-cased tokens', () => {
    const r = compileRedactor({
      custom: [
        { name: 'user_id', pattern: '\\b[a-z]+_[a-z]+_\\d{4}\\b' },
        { name: 'ticket', pattern: 'tkt-\\d+', flags: 'i' },
      ],
    });
    const out = r.redactText('User mia_li_3668 filed TKT-4155552671 and tkt-7');
    assert.equal(out.text, 'User [USER_ID] filed [TICKET] and [TICKET]');
    assert.deepEqual(out.counts, { user_id: 1, ticket: 2 });
  });

  it('walks JSON values deeply and leaves keys and non-strings alone', () => {
    const r = compileRedactor();
    const input = {
      'ops@example.com': 'key stays',
      messages: [
        { role: 'user', content: 'Reach me at mia@example.com or 415-555-2671' },
        { role: 'tool', content: null, args: { card: '4111 1111 1111 1111', amount: 250, ok: true } },
      ],
      nested: [['deep a@b.io']],
    };
    const before = JSON.stringify(input);
    const { value, counts } = r.redactValue(input);
    assert.deepEqual(value, {
      'ops@example.com': 'key stays',
      messages: [
        { role: 'user', content: 'Reach me at [EMAIL] or [PHONE]' },
        { role: 'tool', content: null, args: { card: '[CARD]', amount: 250, ok: true } },
      ],
      nested: [['deep [EMAIL]']],
    });
    assert.deepEqual(counts, { email: 2, phone: 1, card: 1 });
    assert.equal(JSON.stringify(input), before, 'input not mutated');
    assert.deepEqual(r.redactValue('+14155552671'), { value: '[PHONE]', counts: { phone: 1 } });
  });

  it('keeps a JSON "__proto__" key an ordinary key', () => {
    const input = JSON.parse('{"__proto__": {"email": "x@y.io"}}') as unknown;
    const { value } = compileRedactor().redactValue(input);
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value as object), ['__proto__']);
  });

  it('rejects a custom regex that does not compile, naming the entry', () => {
    assert.throws(
      () =>
        compileRedactor({
          custom: [
            { name: 'ok', pattern: 'a+' },
            { name: 'order_id', pattern: '(ORD-\\d+' },
          ],
        }),
      (err: Error) => /#1 "order_id"/.test(err.message) && /Unterminated group/i.test(err.message),
    );
    assert.throws(
      () => compileRedactor({ custom: [{ name: 'bad_flags', pattern: 'x', flags: 'q' }] }),
      /"bad_flags".*flags/i,
    );
  });

  it('rejects custom regexes that match the empty string, and bad names', () => {
    assert.throws(
      () => compileRedactor({ custom: [{ name: 'anything', pattern: 'a*' }] }),
      /"anything".*empty/,
    );
    assert.throws(() => compileRedactor({ custom: [{ name: 'Order', pattern: 'x' }] }), /lowercase/);
    assert.throws(() => compileRedactor({ custom: [{ name: 'email', pattern: 'x' }] }), /built-in/);
    assert.equal(RedactionConfig.safeParse({ custom: [{ name: 'x', pattern: '(' }] }).success, false);
  });

  it('fills defaults and adds counts', () => {
    assert.deepEqual(RedactionConfig.parse({}), {
      kinds: { email: true, phone: true, card: true, iban: true, ip: true },
      custom: [],
    });
    assert.deepEqual(addCounts({ email: 1, card: 2 }, { email: 2, ip: 1 }), { email: 3, card: 2, ip: 1 });
    assert.deepEqual(addCounts({}, { ip: 0 }), {});
  });

  const corpus = sharedDataset('tau_bench/historical_trajectories/gpt-4o-airline.json');
  it('barely fires phone/card/iban/ip on tau-bench airline conversations', () => {
    const trajectories = JSON.parse(readFileSync(corpus, 'utf8')) as {
      traj: { role: string; content: string | null }[];
    }[];
    assert.equal(trajectories.length, 200);
    const numeric = compileRedactor({ kinds: { email: false } });
    let messages = 0;
    const hits: string[] = [];
    for (const t of trajectories) {
      for (const m of t.traj) {
        if ((m.role !== 'user' && m.role !== 'assistant') || typeof m.content !== 'string') continue;
        messages += 1;
        const { counts } = numeric.redactText(m.content);
        if (Object.keys(counts).length > 0) hits.push(`${JSON.stringify(counts)} ${m.content.slice(0, 120)}`);
      }
    }
    assert.ok(messages > 2000, `only ${messages} messages`);
    // Seen when written: 0 of 2,870 messages (ids, dates, flight numbers, prices, card last fours).
    assert.ok(hits.length <= 3, `numeric detectors fired on:\n${hits.join('\n')}`);
  });
});
