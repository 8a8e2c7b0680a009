/**
 * Nanosecond timestamps. OTLP carries uint64 nanoseconds, which a JS number cannot hold
 * exactly (2^53 ns is only ~104 days), so conversions go through BigInt.
 */

const NS_PER_MS = 1_000_000n;
/** 9999-12-31T23:59:59.999Z: the last instant an ISO datetime without an expanded year can name. */
const MAX_MS = 253_402_300_799_999n;

/** 2000-01-01T00:00:00Z in nanoseconds: no agent trace starts earlier, but a time sent in a coarser unit does. */
export const EARLIEST_PLAUSIBLE_NANOS = 946_684_800_000_000_000n;

/**
 * Why a nanosecond count cannot be a span's time, guessing the unit it was sent in from its
 * magnitude (seconds, milliseconds, microseconds around now), or undefined when it can be.
 */
export function implausibleNanos(ns: bigint): string | undefined {
  if (ns >= EARLIEST_PLAUSIBLE_NANOS) return undefined;
  const unit =
    ns < 10_000_000_000n
      ? 'seconds'
      : ns < 10_000_000_000_000n
        ? 'milliseconds'
        : ns < 10_000_000_000_000_000n
          ? 'microseconds'
          : undefined;
  const factor = { seconds: '1,000,000,000', milliseconds: '1,000,000', microseconds: '1,000' };
  return unit === undefined
    ? 'lies before the year 2000: send nanoseconds since the Unix epoch'
    : `looks like ${unit} since the epoch, not nanoseconds: multiply by ${factor[unit]}`;
}

/** A uint64 nanosecond count from its JSON form (decimal string, or a number for small values). */
export function parseNanos(value: string | number): bigint | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 ? BigInt(value) : undefined;
  }
  return /^\d{1,20}$/.test(value) ? BigInt(value) : undefined;
}

/**
 * Exact UTC ISO datetime: three fraction digits when the instant is a whole millisecond,
 * up to nine otherwise. Agent frameworks start a child span within the millisecond of its parent,
 * so cutting to milliseconds sorted children before their parents.
 */
export function nanosToIso(ns: bigint): string | undefined {
  const ms = ns / NS_PER_MS;
  if (ms > MAX_MS) return undefined;
  const iso = new Date(Number(ms)).toISOString();
  const rest = ns % NS_PER_MS;
  if (rest === 0n) return iso;
  // Trailing zeros say nothing; "….234567Z" rather than "….234567000Z".
  return `${iso.slice(0, -1)}${rest.toString().padStart(6, '0').replace(/0+$/, '')}Z`;
}

/** Earlier first, exact to the nanosecond; both must be ISO datetimes with an offset. */
export function compareIso(a: string, b: string): number {
  const x = isoToNanos(a);
  const y = isoToNanos(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Milliseconds between two instants, keeping the sub-millisecond fraction. */
export function nanosDiffMs(startNs: bigint, endNs: bigint): number {
  const diff = endNs - startNs;
  return Number(diff / NS_PER_MS) + Number(diff % NS_PER_MS) / 1e6;
}

const isoPattern = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/i;

/** Exact nanoseconds of an ISO datetime, including fraction digits beyond milliseconds. */
export function isoToNanos(iso: string): bigint {
  const m = isoPattern.exec(iso);
  if (!m) throw new Error(`not an ISO datetime with offset: ${iso}`);
  const wholeSeconds = Date.parse(`${m[1]!}${m[3]!}`);
  if (Number.isNaN(wholeSeconds)) throw new Error(`not an ISO datetime with offset: ${iso}`);
  const fraction = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return BigInt(wholeSeconds) * NS_PER_MS + BigInt(fraction);
}

/** Nanoseconds to add to a start instant for a latency in milliseconds (rounded to 1 ns). */
export function msToNanos(ms: number): bigint {
  return BigInt(Math.round(ms * 1e6));
}
