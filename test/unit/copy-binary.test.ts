import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BinaryCopyEncoder, timestampMicros } from '../../traces/store/copy-binary.js';

/** Reads back the fields of one-row COPY data: each as bytes, or null for NULL. */
function fieldsOf(chunks: Buffer[]): (Buffer | null)[] {
  const data = Buffer.concat(chunks);
  assert.equal(data.subarray(0, 11).toString('latin1'), 'PGCOPY\n\xff\r\n\0');
  let pos = 19;
  const count = data.readInt16BE(pos);
  pos += 2;
  const fields: (Buffer | null)[] = [];
  for (let i = 0; i < count; i++) {
    const length = data.readInt32BE(pos);
    pos += 4;
    fields.push(length < 0 ? null : data.subarray(pos, pos + length));
    pos += Math.max(0, length);
  }
  assert.equal(data.readInt16BE(pos), -1, 'trailer');
  assert.equal(pos + 2, data.length);
  return fields;
}

describe('binary COPY encoding', () => {
  it('reads timestamps as PostgreSQL does, to the microsecond', () => {
    assert.equal(timestampMicros('2000-01-01T00:00:00Z'), 0n);
    assert.equal(timestampMicros('2000-01-01T00:00:00.000001Z'), 1n);
    assert.equal(timestampMicros('2000-01-01T01:00:00+01:00'), 0n);
    assert.equal(timestampMicros('1999-12-31T23:59:59.5Z'), -500_000n);
    assert.equal(timestampMicros('2026-11-22T05:09:17.123Z'), 848_639_357_123_000n);
    // Digits past the sixth round half to even, as rint() does.
    assert.equal(timestampMicros('2000-01-01T00:00:00.0000015Z'), 2n);
    assert.equal(timestampMicros('2000-01-01T00:00:00.0000025Z'), 2n);
    assert.equal(timestampMicros('2000-01-01T00:00:00.0000005Z'), 0n);
    assert.equal(timestampMicros('2000-01-01T00:00:00.9999996Z'), 1_000_000n);
    assert.throws(() => timestampMicros('yesterday'), /not an ISO datetime/);
  });

  it('frames each type as its receive function expects', () => {
    const encoder = new BinaryCopyEncoder([
      'text',
      'int2',
      'int4',
      'float8',
      'jsonb',
      'text[]',
      'text[]',
      'int4',
    ]);
    encoder.row(['héllo', -1, 123_456, 0.5, '{"a":1}', [], ['a', 'bc'], undefined]);
    const [text, int2, int4, float8, jsonb, empty, array, nil] = fieldsOf(encoder.finish());
    assert.equal(text?.toString('utf8'), 'héllo');
    assert.equal(int2?.readInt16BE(0), -1);
    assert.equal(int4?.readInt32BE(0), 123_456);
    assert.equal(float8?.readDoubleBE(0), 0.5);
    assert.equal(jsonb?.[0], 1, 'jsonb version byte');
    assert.equal(jsonb?.subarray(1).toString(), '{"a":1}');
    assert.deepEqual([empty?.readInt32BE(0), empty?.readInt32BE(8), empty?.length], [0, 25, 12]);
    assert.deepEqual(
      [array?.readInt32BE(0), array?.readInt32BE(12), array?.readInt32BE(16), array?.readInt32BE(20)],
      [1, 2, 1, 1],
    );
    assert.equal(array?.subarray(24).toString('latin1'), 'a\0\0\0\x02bc');
    assert.equal(nil, null);
  });

  it('writes NULL for a non-finite number and refuses an integer out of range', () => {
    const encoder = new BinaryCopyEncoder(['float8']);
    encoder.row([Number.NaN]);
    assert.deepEqual(fieldsOf(encoder.finish()), [null]);
    assert.throws(() => new BinaryCopyEncoder(['int4']).row([2 ** 31]), /out of range for type integer/);
    assert.throws(() => new BinaryCopyEncoder(['int2']).row([1.5]), /out of range for type smallint/);
  });

  it('keeps a value larger than its buffer whole', () => {
    const big = 'x'.repeat(70_000);
    const encoder = new BinaryCopyEncoder(['text', 'text'], 1024);
    encoder.row([big, 'after']);
    const [first, second] = fieldsOf(encoder.finish());
    assert.equal(first?.toString(), big);
    assert.equal(second?.toString(), 'after');
  });
});
