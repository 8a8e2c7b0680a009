/**
 * Nanosecond timestamps. OTLP carries uint64 nanoseconds, which a JS number cannot hold
 * exactly (2^53 ns is only ~104 days), so conversions go through BigInt.
 */

const NS_PER_MS = 1_000_000n;
/** 9999-12-31T23:59:59.999Z: the last instant an ISO datetime without an expanded year can name. */
const MAX_MS = 253_402_300_799_999n;

/** A uint64 nanosecond count from its JSON form (decimal string, or a number for small values). */
export function parseNanos(value: string | number): bigint | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 ? BigInt(value) : undefined;
  }
  return /^\d{1,20}$/.test(value) ? BigInt(value) : undefined;
}

/** Millisecond-precision UTC ISO datetime; sub-millisecond digits are truncated. */
export function nanosToIso(ns: bigint): string | undefined {
  const ms = ns / NS_PER_MS;
  if (ms > MAX_MS) return undefined;
  return new Date(Number(ms)).toISOString();
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
