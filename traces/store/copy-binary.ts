/**
 * PostgreSQL's binary COPY format, for the column types the trace writer uses. Binary rows
 * need no escaping on this side and no de-escaping or line splitting on the server's, which
 * matters when each row carries tens of kilobytes of JSON.
 * https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4
 */

export type CopyType = 'text' | 'int2' | 'int4' | 'float8' | 'timestamptz' | 'jsonb' | 'text[]';
export type CopyValue = string | number | readonly string[] | null | undefined;

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const TEXT_OID = 25;
/** 2000-01-01T00:00:00Z, where PostgreSQL's timestamps count from. */
const PG_EPOCH_MS = 946_684_800_000;
const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/i;
const INT_RANGE = { int2: 2 ** 15, int4: 2 ** 31 } as const;

/** Round half to even, as C's rint() does under the default rounding mode. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Microseconds since 2000-01-01 of an ISO datetime with offset, exactly as PostgreSQL
 * reads the text: fraction digits beyond the sixth round to the nearest microsecond.
 */
export function timestampMicros(iso: string): bigint {
  const m = ISO.exec(iso);
  const ms = m ? Date.parse(`${m[1]!}${m[3]!}`) : Number.NaN;
  if (!m || Number.isNaN(ms)) throw new RangeError(`not an ISO datetime with offset: ${iso}`);
  const micros = m[2] === undefined ? 0 : rint(Number(`0.${m[2]}`) * 1e6);
  return BigInt(ms - PG_EPOCH_MS) * 1000n + BigInt(micros);
}

/** Rows appended to growing buffers; `finish()` returns the whole COPY stream's content. */
export class BinaryCopyEncoder {
  private readonly done: Buffer[] = [];
  private buf: Buffer;
  private pos = 0;

  constructor(
    private readonly types: readonly CopyType[],
    private readonly chunkBytes = 1 << 20,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
    this.ensure(SIGNATURE.length + 8);
    this.pos += SIGNATURE.copy(this.buf, this.pos);
    this.pos = this.buf.writeInt32BE(0, this.pos); // flags
    this.pos = this.buf.writeInt32BE(0, this.pos); // header extension length
  }

  /** Appends one row; `values` are in the order of the types given to the constructor. */
  row(values: readonly CopyValue[]): void {
    if (values.length !== this.types.length)
      throw new Error(`COPY row has ${values.length} values for ${this.types.length} columns`);
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(values.length, this.pos);
    values.forEach((value, i) => this.field(this.types[i]!, value));
  }

  /** The chunks filled since the last call, for streaming while encoding goes on. */
  take(): Buffer[] {
    return this.done.splice(0);
  }

  /** The rest of the encoded rows plus the trailer; the encoder is not used afterwards. */
  finish(): Buffer[] {
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(-1, this.pos);
    this.done.push(this.buf.subarray(0, this.pos));
    return this.done;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    if (this.pos > 0) this.done.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(this.chunkBytes, bytes));
    this.pos = 0;
  }

  private field(type: CopyType, value: CopyValue): void {
    if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value))) {
      this.ensure(4);
      this.pos = this.buf.writeInt32BE(-1, this.pos);
      return;
    }
    switch (type) {
      case 'text':
        return this.utf8(String(value), 0);
      case 'jsonb':
        return this.utf8(String(value), 1);
      case 'int2':
      case 'int4': {
        const n = Number(value);
        const limit = INT_RANGE[type];
        if (!Number.isInteger(n) || n < -limit || n >= limit)
          throw new RangeError(
            `value "${String(value)}" is out of range for type ${type === 'int2' ? 'smallint' : 'integer'}`,
          );
        const size = type === 'int2' ? 2 : 4;
        this.ensure(4 + size);
        this.pos = this.buf.writeInt32BE(size, this.pos);
        this.pos = size === 2 ? this.buf.writeInt16BE(n, this.pos) : this.buf.writeInt32BE(n, this.pos);
        return;
      }
      case 'float8':
        this.ensure(12);
        this.pos = this.buf.writeInt32BE(8, this.pos);
        this.pos = this.buf.writeDoubleBE(Number(value), this.pos);
        return;
      case 'timestamptz':
        this.ensure(12);
        this.pos = this.buf.writeInt32BE(8, this.pos);
        this.pos = this.buf.writeBigInt64BE(timestampMicros(String(value)), this.pos);
        return;
      case 'text[]': {
        const items = Array.isArray(value) ? (value as readonly string[]) : [String(value)];
        // Room for the whole array up front, so its length word and items share one buffer.
        this.ensure(24 + items.reduce((sum, item) => sum + 4 + item.length * 3, 0));
        const start = this.pos;
        this.pos += 4;
        this.pos = this.buf.writeInt32BE(items.length === 0 ? 0 : 1, this.pos); // dimensions
        this.pos = this.buf.writeInt32BE(0, this.pos); // no nulls
        this.pos = this.buf.writeInt32BE(TEXT_OID, this.pos);
        if (items.length > 0) {
          this.pos = this.buf.writeInt32BE(items.length, this.pos);
          this.pos = this.buf.writeInt32BE(1, this.pos); // lower bound
        }
        for (const item of items) this.utf8(item, 0);
        this.buf.writeInt32BE(this.pos - start - 4, start);
        return;
      }
    }
  }

  /** A string as length-prefixed UTF-8, after an optional version byte (jsonb's is 1). */
  private utf8(text: string, version: number): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const max = text.length * 3 + (version ? 1 : 0);
    if (max + 4 > this.chunkBytes) {
      const bytes = Buffer.from(text, 'utf8');
      const size = bytes.length + (version ? 1 : 0);
      this.ensure(4 + size);
      this.pos = this.buf.writeInt32BE(size, this.pos);
      if (version) this.pos = this.buf.writeUInt8(version, this.pos);
      this.pos += bytes.copy(this.buf, this.pos);
      return;
    }
    this.ensure(4 + max);
    const start = this.pos;
    this.pos += 4;
    if (version) this.pos = this.buf.writeUInt8(version, this.pos);
    this.pos += this.buf.write(text, this.pos, 'utf8');
    this.buf.writeInt32BE(this.pos - start - 4, start);
  }
}
