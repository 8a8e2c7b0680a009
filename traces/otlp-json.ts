import { z } from 'zod';
import { implausibleNanos, parseNanos } from './otlp-time.js';

/**
 * The OTLP/HTTP JSON encoding of `ExportTraceServiceRequest`. Only the protobuf JSON
 * mapping's lowerCamelCase field names are accepted: OTLP/HTTP JSON forbids the
 * snake_case originals, and accepting both would let two spellings of one field disagree.
 * Ids are hex (not base64, which the generic protobuf JSON mapping would use).
 */

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}

export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

const intString = /^-?\d+$/;
const intError = 'intValue must be an integer, or a decimal string of one (int64 is a string in OTLP JSON)';
const specialDoubles = ['NaN', 'Infinity', '-Infinity'];

export const OtlpAnyValue: z.ZodType<OtlpAnyValue> = z.lazy(() =>
  z.object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: z
      .union([z.string().regex(intString, { error: intError }), z.number().int({ error: intError })], {
        error: intError,
      })
      .optional(),
    doubleValue: z
      .union([z.number(), z.enum(specialDoubles)], { error: 'doubleValue must be a number' })
      .optional(),
    arrayValue: z.object({ values: z.array(OtlpAnyValue).optional() }).optional(),
    kvlistValue: z.object({ values: z.array(OtlpKeyValue).optional() }).optional(),
    bytesValue: z.string().optional(),
  }),
);

export const OtlpKeyValue: z.ZodType<OtlpKeyValue> = z.lazy(() =>
  z.object({ key: z.string(), value: OtlpAnyValue.optional() }),
);

function hexId(field: string, bytes: number) {
  const hint = `send the ${bytes}-byte id as ${bytes * 2} hex characters (OTLP/HTTP JSON uses hex, not base64)`;
  return z
    .string({
      error: (iss) =>
        iss.input === undefined ? `${field} is required: ${hint}` : `${field} must be a string: ${hint}`,
    })
    .refine((v) => new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(v), {
      error: (iss) => `${field} "${String(iss.input)}" is not ${bytes * 2} hex characters: ${hint}`,
    })
    .refine((v) => !/^0+$/.test(v), {
      error: `${field} is all zeros, which OTLP reserves as invalid: ${hint}`,
    })
    .transform((v) => v.toLowerCase());
}

function nanos(field: string) {
  const hint = `send ${field} as nanoseconds since the Unix epoch, e.g. "1700000000123456789" (a decimal string)`;
  return z
    .union([z.string(), z.number()], {
      error: (iss) =>
        iss.input === undefined ? `${field} is required: ${hint}` : `${field} has the wrong type: ${hint}`,
    })
    .transform((v, ctx) => {
      const ns = parseNanos(v);
      if (ns === undefined) {
        ctx.addIssue({ code: 'custom', message: `${field} ${JSON.stringify(v)} is not a time: ${hint}` });
        return z.NEVER;
      }
      if (ns === 0n) {
        ctx.addIssue({ code: 'custom', message: `${field} is 0 (unset): ${hint}` });
        return z.NEVER;
      }
      const implausible = implausibleNanos(ns);
      if (implausible !== undefined) {
        ctx.addIssue({ code: 'custom', message: `${field} ${JSON.stringify(v)} ${implausible}` });
        return z.NEVER;
      }
      return ns;
    });
}

const spanKindNames = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
] as const;

export const OtlpSpanKind = z
  .union([z.number().int().min(0).max(5), z.enum(spanKindNames)], {
    error: `kind must be 0-5 or one of ${spanKindNames.join(', ')}`,
  })
  .transform((v) => (typeof v === 'number' ? v : spanKindNames.indexOf(v)));

const statusCodes = { STATUS_CODE_UNSET: 'unset', STATUS_CODE_OK: 'ok', STATUS_CODE_ERROR: 'error' } as const;
const statusByNumber = ['unset', 'ok', 'error'] as const;

export const OtlpStatus = z.object({
  code: z
    .union(
      [z.number().int().min(0).max(2), z.enum(['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'])],
      {
        error: 'status.code must be 0 (unset), 1 (ok), 2 (error) or STATUS_CODE_UNSET/OK/ERROR',
      },
    )
    .optional()
    .transform((v) =>
      v === undefined ? 'unset' : typeof v === 'number' ? statusByNumber[v]! : statusCodes[v],
    ),
  message: z.string().optional(),
});

/** A count the exporter reports (dropped attributes, events, links); 0 when absent. */
const droppedCount = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)])
  .optional()
  .catch(undefined);

/**
 * A span event. Each is checked on its own when the span is mapped (parseSpanEvent), so a
 * malformed event is counted as dropped and never costs its span.
 */
export const OtlpEvent = z.object({
  timeUnixNano: z.union([z.string(), z.number()]).optional(),
  name: z.string().optional(),
  attributes: z.array(OtlpKeyValue).optional(),
  droppedAttributesCount: droppedCount,
});
export type OtlpEvent = z.output<typeof OtlpEvent>;

/** A span link, checked on its own like an event. */
export const OtlpLink = z.object({
  traceId: z.string().regex(/^[0-9a-fA-F]{32}$/),
  spanId: z.string().regex(/^[0-9a-fA-F]{16}$/),
  traceState: z.string().optional(),
  attributes: z.array(OtlpKeyValue).optional(),
  droppedAttributesCount: droppedCount,
});
export type OtlpLink = z.output<typeof OtlpLink>;

export const OtlpSpan = z.object(
  {
    traceId: hexId('traceId', 16),
    spanId: hexId('spanId', 8),
    // Some exporters write an all-zero id for "no parent"; it cannot name a real span anyway.
    parentSpanId: z
      .string({ error: 'parentSpanId must be a string' })
      .optional()
      .refine((v) => v === undefined || v === '' || /^[0-9a-fA-F]{16}$/.test(v), {
        error: (iss) =>
          `parentSpanId "${String(iss.input)}" is not 16 hex characters: send the parent's spanId, or omit it (or send "") for a root span`,
      })
      .transform((v) => (v === undefined || v === '' || /^0+$/.test(v) ? null : v.toLowerCase())),
    traceState: z.string().optional(),
    name: z.string({ error: 'name must be a string' }).default(''),
    kind: OtlpSpanKind.optional(),
    startTimeUnixNano: nanos('startTimeUnixNano'),
    endTimeUnixNano: nanos('endTimeUnixNano'),
    attributes: z.array(OtlpKeyValue, { error: 'attributes must be an array of {key, value}' }).default([]),
    events: z.array(z.unknown(), { error: 'events must be an array' }).default([]),
    links: z.array(z.unknown(), { error: 'links must be an array' }).default([]),
    droppedAttributesCount: droppedCount,
    droppedEventsCount: droppedCount,
    droppedLinksCount: droppedCount,
    status: OtlpStatus.optional(),
  },
  { error: 'expected a span object {traceId, spanId, name, startTimeUnixNano, endTimeUnixNano, ...}' },
);
export type OtlpSpan = z.output<typeof OtlpSpan>;

export const OtlpResource = z.object({
  attributes: z.array(OtlpKeyValue, { error: 'attributes must be an array of {key, value}' }).default([]),
});

export const OtlpScope = z.object({
  name: z.string().optional(),
  version: z.string().optional(),
  attributes: z.array(OtlpKeyValue).optional(),
});

/**
 * The whole request in one schema, all or nothing. Ingest does not use it: it validates
 * the envelope level by level so that one bad span is reported by its path and costs only
 * itself.
 */
export const OtlpExportTraceServiceRequest = z.object({
  resourceSpans: z.array(
    z.object({
      resource: OtlpResource.optional(),
      scopeSpans: z
        .array(z.object({ scope: OtlpScope.optional(), spans: z.array(OtlpSpan).default([]) }))
        .default([]),
    }),
  ),
});

/** The request as this project writes it (a subset of what it accepts). */
export interface OtlpExportRequest {
  resourceSpans: {
    resource: { attributes: OtlpKeyValue[] };
    scopeSpans: {
      scope?: { name: string; version?: string; attributes?: OtlpKeyValue[] };
      spans: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        traceState?: string;
        name: string;
        kind: number;
        startTimeUnixNano: string;
        endTimeUnixNano: string;
        attributes: OtlpKeyValue[];
        events?: { timeUnixNano?: string; name: string; attributes: OtlpKeyValue[] }[];
        links?: { traceId: string; spanId: string; traceState?: string; attributes: OtlpKeyValue[] }[];
        droppedAttributesCount?: number;
        droppedEventsCount?: number;
        droppedLinksCount?: number;
        status: { code: number; message?: string };
      }[];
    }[];
  }[];
}

/** Plain JSON for an AnyValue; int64 values beyond 2^53 stay decimal strings so none is rounded. */
export function anyValueToJs(value: OtlpAnyValue | undefined): unknown {
  if (value === undefined) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) {
    const n = Number(value.intValue);
    return Number.isSafeInteger(n) ? n : String(value.intValue);
  }
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(anyValueToJs);
  if (value.kvlistValue !== undefined) return keyValuesToRecord(value.kvlistValue.values ?? []);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return null;
}

/** Later duplicates win, as an SDK's attribute map would have kept the last write. */
export function keyValuesToRecord(values: readonly OtlpKeyValue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of values) out[kv.key] = anyValueToJs(kv.value);
  return out;
}

export function jsToAnyValue(value: unknown): OtlpAnyValue {
  if (value === null || value === undefined) return {};
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'bigint') return { intValue: value.toString() };
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return { intValue: String(value) };
    return { doubleValue: Number.isFinite(value) ? value : String(value) };
  }
  if (Array.isArray(value)) return { arrayValue: { values: value.map(jsToAnyValue) } };
  if (typeof value === 'object') {
    return { kvlistValue: { values: recordToKeyValues(value as Record<string, unknown>) } };
  }
  // Functions and symbols have no JSON form, as JSON.stringify would also drop them.
  return {};
}

export function recordToKeyValues(record: Record<string, unknown>): OtlpKeyValue[] {
  return Object.entries(record).map(([key, v]) => ({ key, value: jsToAnyValue(v) }));
}
