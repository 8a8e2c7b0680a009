import fc from 'fast-check';
import { encodeOtlpProtobuf } from '../../traces/otlp-protobuf.js';

/**
 * Malformed ingest bodies for property-based tests: each body carries valid spans (or a
 * valid JSONL line) beside a part that fast-check has broken, so a run checks both that no
 * body gets a server error and that the valid records next to a bad one are kept.
 */

export type FuzzPath = 'otlp-json' | 'otlp-protobuf' | 'jsonl';

export interface FuzzBody {
  path: FuzzPath;
  body: string | Uint8Array;
  contentType: string;
  /** The trace that must be stored whenever the request is accepted (200, or 400 for JSONL). */
  validTraceId: string;
  /** For reproducing a failure: what was broken. */
  description: string;
}

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

/** Nanoseconds an hour ago; the fuzz spans sit inside the current partitions. */
const baseNs = (): bigint => BigInt(Date.now() - 3_600_000) * 1_000_000n;

export function validSpan(traceId: string, spanId: string, parentSpanId?: string): Record<string, unknown> {
  const start = baseNs();
  return {
    traceId,
    spanId,
    ...(parentSpanId ? { parentSpanId } : {}),
    name: 'chat',
    kind: 3,
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: (start + 1_500_000n).toString(),
    attributes: [
      str('openinference.span.kind', 'LLM'),
      str('llm.input_messages.0.message.role', 'user'),
      str('llm.input_messages.0.message.content', 'Where is my order?'),
      str('llm.output_messages.0.message.role', 'assistant'),
      str('llm.output_messages.0.message.content', 'It ships tomorrow.'),
      { key: 'llm.token_count.prompt', value: { intValue: '12' } },
      { key: 'nested', value: { kvlistValue: { values: [str('a', 'b')] } } },
    ],
    events: [
      {
        timeUnixNano: (start + 10n).toString(),
        name: 'exception',
        attributes: [str('exception.message', 'x')],
      },
    ],
    status: { code: 1 },
  };
}

export function resourceSpans(spans: Record<string, unknown>[], agent: string): Record<string, unknown> {
  return {
    resource: { attributes: [str('service.name', agent)] },
    scopeSpans: [{ scope: { name: 'fuzz', version: '1' }, spans }],
  };
}

/** Values that have broken ingest before, or could: odd Unicode, odd numbers, deep nesting. */
const nasty = fc.oneof(
  fc.anything({ maxDepth: 4 }),
  fc.constantFrom(
    '\ud800',
    'a\udc00b',
    '\u0000',
    '\\u0000',
    '\\ud800',
    '',
    '0',
    '-1',
    '1700000000',
    '1700000000000',
    '1700000000000000',
    '99999999999999999999999',
    '1e400',
    'NaN',
    'ffffffffffffffff',
    '0000000000000000',
    'SPAN_KIND_SERVER',
    'STATUS_CODE_ERROR',
  ),
  fc.constantFrom(
    -1,
    0,
    1.5,
    2 ** 53 + 1,
    1e308,
    -0,
    Number.MAX_SAFE_INTEGER,
    1_700_000_000,
    1_700_000_000_000,
  ),
  fc.constantFrom(null, true, [], {}, [[[]]], { stringValue: 5 }, { intValue: '1.5' }, { arrayValue: null }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  // A marker expanded in the serialized text: JSON.stringify itself overflows this deep.
  fc.integer({ min: 90, max: 20_000 }).map((depth) => ({ [DEEP]: depth })),
);

const DEEP = '__fuzz_deep__';

/** The serialized body with every deep-nesting marker expanded into that many levels. */
function expandDeep(text: string): string {
  return text.replace(
    new RegExp(`\\{"${DEEP}":(\\d+)\\}`, 'g'),
    // A later mutation may have rewritten the depth: at most what the generator makes.
    (_, text: string) => {
      const depth = Math.min(Number(text), 20_000);
      return `${'{"arrayValue":{"values":['.repeat(depth)}{"stringValue":"bottom"}${']}}'.repeat(depth)}`;
    },
  );
}

export interface Mutation {
  /** Child choices while walking down from the root; the walk stops at a leaf or the list's end. */
  steps: number[];
  op: 'replace' | 'delete' | 'add';
  key: string;
  value: unknown;
}

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  steps: fc.array(fc.nat(), { maxLength: 8 }),
  op: fc.constantFrom('replace', 'delete', 'add'),
  key: fc.oneof(
    fc.constantFrom(
      'traceId',
      'spanId',
      'parentSpanId',
      'name',
      'kind',
      'startTimeUnixNano',
      'endTimeUnixNano',
      'attributes',
      'events',
      'links',
      'status',
      'resource',
      'scopeSpans',
      'spans',
      'key',
      'value',
      'stringValue',
      'intValue',
      'trace_id',
      '__proto__',
    ),
    fc.string({ maxLength: 12 }),
  ),
  value: nasty,
});

/** Applies a mutation in place, walking to a container by the step choices. */
export function mutate(root: unknown, mutation: Mutation): void {
  // constantFrom hands out one instance; a copy keeps two mutations from nesting it in itself.
  const m = { ...mutation, value: structuredClone(mutation.value) };
  let node = root;
  for (const step of m.steps) {
    const children: unknown[] = Array.isArray(node)
      ? node
      : typeof node === 'object' && node !== null
        ? Object.values(node)
        : [];
    const containers = children.filter((c) => typeof c === 'object' && c !== null);
    if (containers.length === 0) break;
    node = containers[step % containers.length];
  }
  if (typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    const index = m.steps.at(-1) ?? 0;
    if (m.op === 'delete' && node.length > 0) node.splice(index % node.length, 1);
    else if (m.op === 'add' || node.length === 0) node.push(m.value);
    else node[index % node.length] = m.value;
    return;
  }
  const record = node as Record<string, unknown>;
  const keys = Object.keys(record);
  const key = m.op === 'add' || keys.length === 0 ? m.key : keys[(m.steps.at(-1) ?? 0) % keys.length]!;
  // defineProperty, so a "__proto__" key is data as JSON.parse would make it, not a prototype.
  if (m.op === 'delete') delete record[key];
  else
    Object.defineProperty(record, key, {
      value: m.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0').slice(-width);

/** One malformed body on the given path, built around fresh valid ids. */
export function fuzzBodyArb(path: FuzzPath, agent: string, nextId: () => number): fc.Arbitrary<FuzzBody> {
  return fc
    .record({
      mutations: fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
      byteFlips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    })
    .map(({ mutations, byteFlips, cut }) => {
      const n = nextId();
      const validTraceId = `f022${hex(n, 12)}${'a'.repeat(16)}`;
      const brokenTraceId = `b022${hex(n, 12)}${'b'.repeat(16)}`;
      const valid = resourceSpans(
        [
          validSpan(validTraceId, `${hex(n, 8)}00000001`),
          validSpan(validTraceId, `${hex(n, 8)}00000002`, `${hex(n, 8)}00000001`),
        ],
        agent,
      );
      const broken = resourceSpans(
        [validSpan(brokenTraceId, `${hex(n, 8)}0000000a`), validSpan(brokenTraceId, `${hex(n, 8)}0000000b`)],
        agent,
      );
      const description = JSON.stringify({
        mutations: mutations.map((m) => ({ ...m, value: typeof m.value })),
        byteFlips,
        cut,
      });
      if (path === 'otlp-json') {
        for (const m of mutations) mutate(broken, m);
        return {
          path,
          body: expandDeep(JSON.stringify({ resourceSpans: [valid, broken] })),
          contentType: 'application/json',
          validTraceId,
          description,
        };
      }
      if (path === 'otlp-protobuf') {
        // Repeated fields of concatenated messages merge: the valid part, then a corrupted one.
        const good = encodeOtlpProtobuf({ resourceSpans: [valid] });
        const bad = Buffer.from(encodeOtlpProtobuf({ resourceSpans: [broken] }));
        for (const [at, byte] of byteFlips) if (bad.length > 0) bad[at % bad.length] = byte;
        const tail = cut === undefined ? bad : bad.subarray(0, cut % (bad.length + 1));
        return {
          path,
          body: Buffer.concat([good, tail]),
          contentType: 'application/x-protobuf',
          validTraceId,
          description,
        };
      }
      const record = (id: string) => ({
        id,
        timestamp: new Date().toISOString(),
        input: { messages: [{ role: 'user', content: 'Where is my order?' }] },
        output: { action: 'respond', content: 'It ships tomorrow.' },
        attributes: { plan: 'gold' },
      });
      const brokenRecord: unknown = record(brokenTraceId);
      for (const m of mutations) mutate(brokenRecord, m);
      let brokenLine = expandDeep(JSON.stringify(brokenRecord) ?? 'null');
      if (cut !== undefined) brokenLine = brokenLine.slice(0, cut % (brokenLine.length + 1));
      return {
        path,
        body: [JSON.stringify(record(validTraceId)), brokenLine.replace(/\n/g, ' ')].join('\n'),
        contentType: 'application/x-ndjson',
        validTraceId,
        description,
      };
    });
}
