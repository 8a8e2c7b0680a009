import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseWellFormedResource, parseWellFormedSpan } from '../../traces/otlp-fast-path.js';
import { keyValuesToRecord, OtlpResource, OtlpSpan } from '../../traces/otlp-json.js';
import { flattenOtlpRequest } from '../../traces/otlp-mapping.js';

const span = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  traceId: '5B8EFFF798038103D269B633813FC60C',
  spanId: 'EEE19B7EC3C1B174',
  parentSpanId: 'eee19b7ec3c1b173',
  name: 'chat gpt-4o',
  kind: 3,
  startTimeUnixNano: '1700000000123456789',
  endTimeUnixNano: 1_700_000_001_000_000_000,
  attributes: [
    { key: 'openinference.span.kind', value: { stringValue: 'LLM' } },
    { key: 'llm.input_messages.0.message.role', value: { stringValue: 'user' } },
    { key: 'llm.input_messages.0.message.content', value: { stringValue: 'hello' } },
    { key: 'llm.token_count.prompt', value: { intValue: '12' } },
    { key: 'llm.cost.total', value: { doubleValue: 0.25 } },
    { key: 'flag', value: { boolValue: true } },
    {
      key: 'nested',
      value: {
        kvlistValue: { values: [{ key: 'a', value: { arrayValue: { values: [{ intValue: 3 }] } } }] },
      },
    },
    { key: 'empty' },
  ],
  events: [{ name: 'exception', attributes: [{ key: 'exception.message', value: { stringValue: 'boom' } }] }],
  status: { code: 2, message: 'failed' },
  ...overrides,
});

/** What the mapping reads of a parsed span: every field, attributes as a record. */
function comparable(parsed: OtlpSpan): unknown {
  return JSON.parse(
    JSON.stringify(
      {
        ...parsed,
        attributes: keyValuesToRecord(parsed.attributes),
      },
      (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v),
    ),
  );
}

/** Every variation either takes the fast path to the schema's result or is left to the schema. */
const variations: Record<string, unknown>[] = [
  {},
  { parentSpanId: undefined },
  { parentSpanId: '' },
  { parentSpanId: '0000000000000000' },
  { parentSpanId: null },
  { parentSpanId: 'xyz' },
  { traceId: '00000000000000000000000000000000' },
  { traceId: 'abc' },
  { traceId: undefined },
  { trace_id: 'ab', traceId: undefined },
  { spanId: 42 },
  { name: undefined },
  { name: null },
  { kind: 'SPAN_KIND_CLIENT' },
  { kind: 9 },
  { kind: 1.5 },
  { startTimeUnixNano: '0' },
  { startTimeUnixNano: '17e8' },
  { endTimeUnixNano: -5 },
  { attributes: undefined },
  { attributes: null },
  { attributes: [{ key: 'x', value: null }] },
  { attributes: [{ key: 'x', value: { intValue: '1.5' } }] },
  { attributes: [{ key: 'x', value: { intValue: 2 ** 60 } }] },
  { attributes: [{ key: 'x', value: { doubleValue: 'NaN' } }] },
  { attributes: [{ key: 'x', value: { doubleValue: 'nope' } }] },
  { attributes: [{ key: 'x', value: { stringValue: 5 } }] },
  { attributes: [{ key: 'x', value: { stringValue: 'a', intValue: 3, extra: true } }] },
  { attributes: [{ key: 7, value: { stringValue: 'a' } }] },
  { attributes: [{ key: 'x', value: { arrayValue: { values: [{ boolValue: 'yes' }] } } }] },
  { attributes: 'key=value' },
  { events: null },
  {
    events: [
      { name: 3 },
      'junk',
      { attributes: [{ key: 'exception.message', value: { stringValue: 'm' } }] },
    ],
  },
  { links: [{ traceId: '5b8efff798038103d269b633813fc60d', spanId: 'eee19b7ec3c1b175' }] },
  { links: 'none' },
  { droppedEventsCount: 2, droppedAttributesCount: 0 },
  { droppedLinksCount: -1 },
  { droppedEventsCount: '3' },
  { startTimeUnixNano: '1700000000123', endTimeUnixNano: '1700000001000' },
  { status: undefined },
  { status: {} },
  { status: { code: 'STATUS_CODE_ERROR' } },
  { status: { code: 3 } },
  { status: { message: 7 } },
  { status: 'error' },
  { traceState: 1 },
  { extraField: 'ignored' },
];

describe('OTLP span fast path', () => {
  it('returns exactly what the schema returns, or leaves the span to the schema', () => {
    let fast = 0;
    for (const v of variations) {
      const raw = span(v);
      const quick = parseWellFormedSpan(raw);
      const schema = OtlpSpan.safeParse(raw);
      if (quick === undefined) continue;
      fast += 1;
      assert.ok(schema.success, `fast path accepted what the schema rejects: ${JSON.stringify(v)}`);
      assert.deepEqual(comparable(quick), comparable(schema.data), JSON.stringify(v));
    }
    assert.ok(fast >= 10, `the common shapes take the fast path (${fast})`);
  });

  it('does not accept a non-object', () => {
    for (const raw of [null, 'span', 3, [span()]]) assert.equal(parseWellFormedSpan(raw), undefined);
  });

  it('keeps the schema errors, by path, for spans it leaves alone', () => {
    const { spans, errors } = flattenOtlpRequest({
      resourceSpans: [
        { scopeSpans: [{ spans: [span(), span({ spanId: 'xyz' }), span({ kind: 'SPAN_KIND_SERVER' })] }] },
      ],
    });
    assert.equal(spans.length, 2);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.path, 'resourceSpans[0].scopeSpans[0].spans[1]');
    assert.match(errors[0]?.error ?? '', /spanId "xyz" is not 16 hex characters/);
  });
});

/** AnyValues as exporters write them, and as they go wrong (wrong types, extra and unknown fields). */
const anyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.record({ stringValue: fc.oneof(fc.string(), fc.integer()) }, { requiredKeys: [] }),
    fc.record({ boolValue: fc.oneof(fc.boolean(), fc.constant('true')) }),
    fc.record({
      intValue: fc.oneof(
        fc.integer(),
        fc.constantFrom('12', '-3', '1.5', '9007199254740993', 2 ** 60, 1.5, 'x'),
      ),
    }),
    fc.record({
      doubleValue: fc.oneof(fc.double(), fc.constantFrom('NaN', 'Infinity', '-Infinity', 'nope', null)),
    }),
    fc.record({ bytesValue: fc.oneof(fc.base64String(), fc.constant(3)) }),
    fc.record({
      arrayValue: fc.oneof(
        fc.record({ values: fc.array(tie('value'), { maxLength: 3 }) }),
        fc.constant({}),
        fc.constant(null),
      ),
    }),
    fc.record({
      kvlistValue: fc.oneof(fc.record({ values: tie('keyValues') }), fc.constant({ values: 'x' })),
    }),
    fc.record({ stringValue: fc.string(), intValue: fc.integer(), extra: fc.anything() }),
    fc.constantFrom(null, 'text', 7, [], {}),
  ),
  keyValues: fc.array(
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({ key: fc.string(), value: tie('value') }, { requiredKeys: ['key'] }),
      },
      fc.record({ key: fc.oneof(fc.integer(), fc.constant(null)), value: tie('value') }),
      fc.constantFrom(null, 'k=v', []),
    ),
    { maxLength: 4 },
  ),
})).value;

const resource = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      {
        attributes: fc.array(fc.record({ key: fc.string(), value: anyValue }, { requiredKeys: ['key'] }), {
          maxLength: 5,
        }),
      },
      { requiredKeys: [] },
    ),
  },
  fc.record({ attributes: fc.anything(), droppedAttributesCount: fc.anything() }, { requiredKeys: [] }),
  fc.anything(),
  fc.constant(undefined),
);

describe('OTLP resource fast path', () => {
  it('accepts only what the schema accepts, with the same attributes', () => {
    let fast = 0;
    fc.assert(
      fc.property(resource, (raw) => {
        const quick = parseWellFormedResource(raw);
        if (quick === undefined) return;
        fast += 1;
        const schema = OtlpResource.safeParse(raw ?? {});
        assert.ok(schema.success, `fast path accepted what the schema rejects: ${JSON.stringify(raw)}`);
        assert.deepEqual(keyValuesToRecord(quick.data.attributes), keyValuesToRecord(schema.data.attributes));
      }),
      { numRuns: 5000, seed: 20261207 },
    );
    assert.ok(fast >= 1000, `well-formed resources take the fast path (${fast})`);
  });
});
