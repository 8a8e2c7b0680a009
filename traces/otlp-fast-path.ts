import type { OtlpAnyValue, OtlpKeyValue, OtlpSpan } from './otlp-json.js';
import { implausibleNanos, parseNanos } from './otlp-time.js';

/**
 * The common case of OTLP/JSON decoding without zod. An LLM span carries its conversation
 * as hundreds of attributes, and validating each through the recursive zod schema was most
 * of the API's time per request. These checks accept only input the schemas accept and
 * return what they would return; anything unusual (a bad field, a snake_case name, an
 * enum spelled out) yields undefined, and the caller runs the schema to get its messages.
 */

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const INT_STRING = /^-?\d+$/;
const SPECIAL_DOUBLES = new Set(['NaN', 'Infinity', '-Infinity']);

function isAnyValue(value: unknown, depth: number): value is OtlpAnyValue {
  if (!isObject(value) || depth > 32) return false;
  for (const key in value) {
    const v = value[key];
    if (v === undefined) continue;
    switch (key) {
      case 'stringValue':
      case 'bytesValue':
        if (typeof v !== 'string') return false;
        break;
      case 'boolValue':
        if (typeof v !== 'boolean') return false;
        break;
      case 'intValue':
        if (typeof v === 'string' ? !INT_STRING.test(v) : !Number.isSafeInteger(v)) return false;
        break;
      case 'doubleValue':
        if (typeof v === 'string' ? !SPECIAL_DOUBLES.has(v) : typeof v !== 'number' || !Number.isFinite(v))
          return false;
        break;
      case 'arrayValue':
        if (!isObject(v) || !(v.values === undefined || isArrayOf(v.values, (x) => isAnyValue(x, depth + 1))))
          return false;
        break;
      case 'kvlistValue':
        if (!isObject(v) || !(v.values === undefined || isKeyValues(v.values, depth + 1))) return false;
        break;
      default:
      // Unknown fields are dropped by the schema and ignored by the mapping.
    }
  }
  return true;
}

function isArrayOf(value: unknown, check: (item: unknown) => boolean): boolean {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (!check(item)) return false;
  return true;
}

/** An array of `{key, value}` the schema accepts. */
export function isKeyValues(value: unknown, depth = 0): value is OtlpKeyValue[] {
  return isArrayOf(
    value,
    (kv) =>
      isObject(kv) &&
      typeof kv.key === 'string' &&
      (kv.value === undefined || isAnyValue(kv.value, depth + 1)),
  );
}

const HEX_TRACE_ID = /^[0-9a-fA-F]{32}$/;
const HEX_SPAN_ID = /^[0-9a-fA-F]{16}$/;
const ZEROS = /^0+$/;

function nonZeroNanos(value: unknown): bigint | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const ns = parseNanos(value);
  return ns === undefined || ns === 0n || implausibleNanos(ns) !== undefined ? undefined : ns;
}

const STATUS_BY_NUMBER = ['unset', 'ok', 'error'] as const;

/** `OtlpSpan.parse(raw)` for a well-formed span, undefined for anything else. */
export function parseWellFormedSpan(raw: unknown): OtlpSpan | undefined {
  if (!isObject(raw)) return undefined;
  const { traceId, spanId, parentSpanId, traceState, name, kind, status } = raw;
  if (typeof traceId !== 'string' || !HEX_TRACE_ID.test(traceId) || ZEROS.test(traceId)) return undefined;
  if (typeof spanId !== 'string' || !HEX_SPAN_ID.test(spanId) || ZEROS.test(spanId)) return undefined;
  let parent: string | null = null;
  if (parentSpanId !== undefined && parentSpanId !== '') {
    if (typeof parentSpanId !== 'string' || !HEX_SPAN_ID.test(parentSpanId)) return undefined;
    parent = ZEROS.test(parentSpanId) ? null : parentSpanId.toLowerCase();
  }
  if (traceState !== undefined && typeof traceState !== 'string') return undefined;
  if (name !== undefined && typeof name !== 'string') return undefined;
  if (kind !== undefined && !(Number.isSafeInteger(kind) && (kind as number) >= 0 && (kind as number) <= 5))
    return undefined;
  const start = nonZeroNanos(raw.startTimeUnixNano);
  const end = nonZeroNanos(raw.endTimeUnixNano);
  if (start === undefined || end === undefined) return undefined;
  const attributes = raw.attributes === undefined ? [] : raw.attributes;
  if (!isKeyValues(attributes)) return undefined;
  const events = raw.events === undefined ? [] : raw.events;
  if (!Array.isArray(events)) return undefined;
  const links = raw.links === undefined ? [] : raw.links;
  if (!Array.isArray(links)) return undefined;
  const dropped: Pick<OtlpSpan, 'droppedAttributesCount' | 'droppedEventsCount' | 'droppedLinksCount'> = {};
  for (const key of ['droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount'] as const) {
    const n = raw[key];
    if (n === undefined) continue;
    if (!Number.isSafeInteger(n) || (n as number) < 0) return undefined;
    dropped[key] = n as number;
  }
  let parsedStatus: OtlpSpan['status'];
  if (status !== undefined) {
    if (!isObject(status)) return undefined;
    const { code, message } = status;
    if (code !== undefined && !(Number.isSafeInteger(code) && (code as number) >= 0 && (code as number) <= 2))
      return undefined;
    if (message !== undefined && typeof message !== 'string') return undefined;
    parsedStatus = {
      code: code === undefined ? 'unset' : STATUS_BY_NUMBER[code as number]!,
      ...(message === undefined ? {} : { message }),
    };
  }
  return {
    traceId: traceId.toLowerCase(),
    spanId: spanId.toLowerCase(),
    parentSpanId: parent,
    ...(traceState === undefined ? {} : { traceState }),
    name: name ?? '',
    ...(kind === undefined ? {} : { kind: kind as number }),
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes,
    // Events and links are checked one by one when the span is mapped, as the schema leaves them.
    events,
    links,
    ...dropped,
    ...(parsedStatus === undefined ? {} : { status: parsedStatus }),
  };
}

/**
 * `OtlpResource.safeParse(resource ?? {})` for a well-formed resource, undefined for anything
 * else. A resource's attributes went through the recursive zod schema once per request
 * part, which cost as much as mapping a span.
 */
export function parseWellFormedResource(
  raw: unknown,
): { success: true; data: { attributes: OtlpKeyValue[] } } | undefined {
  if (raw === undefined) return { success: true, data: { attributes: [] } };
  if (!isObject(raw)) return undefined;
  const { attributes } = raw;
  if (attributes === undefined) return { success: true, data: { attributes: [] } };
  return isKeyValues(attributes) ? { success: true, data: { attributes } } : undefined;
}
