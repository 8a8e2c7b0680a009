import { stableHash53 } from '../optimizers/stable-hash.js';

/**
 * OTLP ids for normalized ids that are not OTLP ids already (JSONL imports use ids like
 * "t-17" or "s1"). A pure hash keeps re-exports stable, so a re-sent export merges into
 * the trace it created instead of duplicating it.
 */

/** Attributes that carry the normalized ids through an export when they had to be hashed. */
export const FLYWHEEL_TRACE_ID = 'flywheel.trace_id';
export const FLYWHEEL_SPAN_ID = 'flywheel.span_id';
export const FLYWHEEL_PARENT_SPAN_ID = 'flywheel.parent_span_id';

export function isOtlpTraceId(id: string): boolean {
  return /^[0-9a-f]{32}$/.test(id) && !/^0+$/.test(id);
}

export function isOtlpSpanId(id: string): boolean {
  return /^[0-9a-f]{16}$/.test(id) && !/^0+$/.test(id);
}

/** 48 bits per hash keeps every hex digit uniformly mixed (cyrb53's top digit is not). */
function hexDigits(text: string, length: number): string {
  let out = '';
  for (let seed = 1; out.length < length; seed++) {
    out += (stableHash53(text, seed) % 2 ** 48).toString(16).padStart(12, '0');
  }
  out = out.slice(0, length);
  return /^0+$/.test(out) ? `${out.slice(0, -1)}1` : out;
}

export function otlpTraceIdOf(traceId: string): string {
  return isOtlpTraceId(traceId) ? traceId : hexDigits(`trace:${traceId}`, 32);
}

/** Scoped by trace because normalized span ids ("s1") repeat across traces. */
export function otlpSpanIdOf(traceId: string, spanId: string): string {
  return isOtlpSpanId(spanId) ? spanId : hexDigits(`span:${traceId}/${spanId}`, 16);
}
