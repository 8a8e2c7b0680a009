import {
  Span,
  type InstrumentationScope,
  type OtelSpanKind,
  type SpanEvent,
  type SpanLink,
} from '../schemas/trace.js';
import { FLYWHEEL_PARENT_SPAN_ID, FLYWHEEL_SPAN_ID, FLYWHEEL_TRACE_ID } from './otlp-ids.js';
import { parseWellFormedResource, parseWellFormedSpan } from './otlp-fast-path.js';
import { keyValuesToRecord, OtlpEvent, OtlpLink, OtlpResource, OtlpScope, OtlpSpan } from './otlp-json.js';
import { mapSpanAttributes } from './otlp-span-attributes.js';
import { implausibleNanos, nanosDiffMs, nanosToIso, parseNanos } from './otlp-time.js';
import { nestsDeeperThan, tooDeepMessage } from './json-depth.js';
import { formatIssues } from '../schemas/format-issues.js';

export { mapSpanAttributes, type MappedSpanAttributes } from './otlp-span-attributes.js';
export { assembleTrace, type TraceAssemblyInput } from './otlp-trace-assembly.js';

/** One mapped span with what it needs to be grouped into a trace and attributed to an agent. */
export interface FlatSpan {
  traceId: string;
  resource: Record<string, unknown>;
  span: Span;
}

export interface FlattenError {
  path: string;
  error: string;
}

export interface FlattenResult {
  spans: FlatSpan[];
  errors: FlattenError[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function takeString(attrs: Record<string, unknown>, key: string): string | undefined {
  const value = attrs[key];
  if (typeof value !== 'string' || value === '') return undefined;
  delete attrs[key];
  return value;
}

const otelKinds: readonly (OtelSpanKind | undefined)[] = [
  undefined,
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
];

/** An event's time when it is a plausible nanosecond count; an event without one keeps the rest. */
function eventTime(value: string | number | undefined): string | undefined {
  const ns = value === undefined ? undefined : parseNanos(value);
  return ns === undefined || implausibleNanos(ns) !== undefined ? undefined : nanosToIso(ns);
}

/** The span's events and links that parse; the rest are counted as dropped, never cost the span. */
function readEventsAndLinks(s: OtlpSpan): {
  events: SpanEvent[];
  links: SpanLink[];
  malformedEvents: number;
  malformedLinks: number;
} {
  const events: SpanEvent[] = [];
  const links: SpanLink[] = [];
  let malformedEvents = 0;
  let malformedLinks = 0;
  for (const raw of s.events) {
    // The fast path takes events as they are: bound their depth before the schema recurses.
    const e = nestsDeeperThan(raw) ? undefined : OtlpEvent.safeParse(raw);
    if (!e?.success) {
      malformedEvents += 1;
      continue;
    }
    const time = eventTime(e.data.timeUnixNano);
    events.push({
      name: e.data.name ?? '',
      ...(time === undefined ? {} : { time }),
      attributes: keyValuesToRecord(e.data.attributes ?? []),
    });
  }
  for (const raw of s.links) {
    const l = nestsDeeperThan(raw) ? undefined : OtlpLink.safeParse(raw);
    if (!l?.success) {
      malformedLinks += 1;
      continue;
    }
    links.push({
      traceId: l.data.traceId.toLowerCase(),
      spanId: l.data.spanId.toLowerCase(),
      ...(l.data.traceState ? { traceState: l.data.traceState } : {}),
      attributes: keyValuesToRecord(l.data.attributes ?? []),
    });
  }
  return { events, links, malformedEvents, malformedLinks };
}

function droppedCounts(s: OtlpSpan, malformedEvents: number, malformedLinks: number): Span['dropped'] {
  const counts = {
    attributes: s.droppedAttributesCount ?? 0,
    events: (s.droppedEventsCount ?? 0) + malformedEvents,
    links: (s.droppedLinksCount ?? 0) + malformedLinks,
  };
  const dropped: NonNullable<Span['dropped']> = {};
  for (const [key, n] of Object.entries(counts)) if (n > 0) dropped[key as keyof typeof counts] = n;
  return Object.keys(dropped).length > 0 ? dropped : undefined;
}

/** One OTLP span to a normalized span, or a message saying what to send instead. */
export function otlpSpanToFlat(
  raw: unknown,
  resource: Record<string, unknown>,
  scope?: InstrumentationScope,
): { ok: true; value: FlatSpan } | { ok: false; error: string } {
  const fast = parseWellFormedSpan(raw);
  // The schema recurses through nested values; a body nested thousands deep overflowed the stack.
  if (!fast && nestsDeeperThan(raw)) return { ok: false, error: tooDeepMessage('the span') };
  const parsed = fast ? ({ success: true, data: fast } as const) : OtlpSpan.safeParse(raw);
  if (!parsed.success) {
    const snake = isObject(raw) && ('trace_id' in raw || 'span_id' in raw);
    const hint = snake
      ? ' (found snake_case field names; OTLP/HTTP JSON uses lowerCamelCase: traceId, spanId)'
      : '';
    return { ok: false, error: `${formatIssues(parsed.error, { root: '' })}${hint}` };
  }
  const s = parsed.data;
  if (s.endTimeUnixNano < s.startTimeUnixNano) {
    return {
      ok: false,
      error:
        `endTimeUnixNano (${s.endTimeUnixNano}) is before startTimeUnixNano (${s.startTimeUnixNano}): ` +
        'send the time the span ended, in nanoseconds since the Unix epoch, at or after its start',
    };
  }
  const startTime = nanosToIso(s.startTimeUnixNano);
  const endTime = nanosToIso(s.endTimeUnixNano);
  if (startTime === undefined || endTime === undefined) {
    return {
      ok: false,
      error: 'startTimeUnixNano/endTimeUnixNano lie after year 9999: send nanoseconds, not a finer unit',
    };
  }
  const attrs = keyValuesToRecord(s.attributes);
  // An export of a normalized trace carries the ids it had to hash; the originals win.
  const traceId = takeString(attrs, FLYWHEEL_TRACE_ID) ?? s.traceId;
  const spanId = takeString(attrs, FLYWHEEL_SPAN_ID) ?? s.spanId;
  const parentSpanId = takeString(attrs, FLYWHEEL_PARENT_SPAN_ID) ?? s.parentSpanId;
  const mapped = mapSpanAttributes(attrs);
  const status = s.status?.code ?? 'unset';
  const { events, links, malformedEvents, malformedLinks } = readEventsAndLinks(s);
  const statusMessage =
    s.status?.message ||
    (status === 'error'
      ? events.map((e) => e.attributes['exception.message']).find((m) => typeof m === 'string')
      : undefined);
  const otelKind = s.kind === undefined ? undefined : otelKinds[s.kind];
  const dropped = droppedCounts(s, malformedEvents, malformedLinks);
  const { inputMessages, outputMessages, ...fields } = mapped;
  const span = SpanFields.safeParse({
    spanId,
    parentSpanId,
    name: s.name,
    startTime,
    endTime,
    latencyMs: nanosDiffMs(s.startTimeUnixNano, s.endTimeUnixNano),
    status,
    ...(typeof statusMessage === 'string' && statusMessage !== '' ? { statusMessage } : {}),
    ...fields,
    ...(otelKind === undefined ? {} : { otelKind }),
    ...(events.length > 0 ? { events } : {}),
    ...(links.length > 0 ? { links } : {}),
    ...(scope === undefined ? {} : { scope }),
    ...(s.traceState ? { traceState: s.traceState } : {}),
    ...(dropped === undefined ? {} : { dropped }),
  });
  if (!span.success) return { ok: false, error: formatIssues(span.error, { root: '' }) };
  const value: Span = span.data;
  if (inputMessages) value.inputMessages = inputMessages;
  if (outputMessages) value.outputMessages = outputMessages;
  return { ok: true, value: { traceId, resource, span: value } };
}

/**
 * The span schema without its messages. The decoders build messages field by field from
 * checked values (a known role, string content, named tool calls with object arguments),
 * and an LLM span repeats the whole conversation, so re-validating them was most of the
 * schema's work.
 */
const SpanFields = Span.omit({ inputMessages: true, outputMessages: true });

/** The scope is context, not data: one that does not parse is left out, its spans kept. */
function readScope(raw: unknown): InstrumentationScope | undefined {
  if (raw === undefined || nestsDeeperThan(raw)) return undefined;
  const parsed = OtlpScope.safeParse(raw);
  if (!parsed.success || !parsed.data.name) return undefined;
  const { name, version, attributes } = parsed.data;
  return {
    name,
    ...(version ? { version } : {}),
    ...(attributes && attributes.length > 0 ? { attributes: keyValuesToRecord(attributes) } : {}),
  };
}

const bodyHint =
  'send an OTLP/HTTP JSON ExportTraceServiceRequest: {"resourceSpans":[{"resource":{...},"scopeSpans":[{"spans":[...]}]}]} ' +
  '(lowerCamelCase field names, hex ids)';

/**
 * Every span of a request, each validated on its own: a bad span costs only itself and is
 * reported by its path, e.g. `resourceSpans[0].scopeSpans[1].spans[3]`.
 */
export function flattenOtlpRequest(body: unknown): FlattenResult {
  const result: FlattenResult = { spans: [], errors: [] };
  if (!isObject(body) || !Array.isArray(body.resourceSpans)) {
    const snake = isObject(body) && 'resource_spans' in body ? ' (found snake_case "resource_spans")' : '';
    result.errors.push({ path: '(body)', error: `no resourceSpans array${snake}: ${bodyHint}` });
    return result;
  }
  body.resourceSpans.forEach((rs: unknown, i) => {
    const rsPath = `resourceSpans[${i}]`;
    if (!isObject(rs)) {
      result.errors.push({
        path: rsPath,
        error: `expected an object with resource and scopeSpans: ${bodyHint}`,
      });
      return;
    }
    if (nestsDeeperThan(rs.resource)) {
      result.errors.push({
        path: `${rsPath}.resource`,
        error: `${tooDeepMessage('the resource')}; its spans were skipped`,
      });
      return;
    }
    const parsedResource = parseWellFormedResource(rs.resource) ?? OtlpResource.safeParse(rs.resource ?? {});
    if (!parsedResource.success) {
      result.errors.push({
        path: `${rsPath}.resource`,
        error: `${formatIssues(parsedResource.error, { root: '' })}; its spans were skipped`,
      });
      return;
    }
    const resource = keyValuesToRecord(parsedResource.data.attributes);
    const scopeSpans = rs.scopeSpans ?? [];
    if (!Array.isArray(scopeSpans)) {
      result.errors.push({ path: `${rsPath}.scopeSpans`, error: `expected an array: ${bodyHint}` });
      return;
    }
    if (scopeSpans.length === 0 && 'instrumentationLibrarySpans' in rs) {
      result.errors.push({
        path: `${rsPath}.instrumentationLibrarySpans`,
        error: 'instrumentationLibrarySpans was renamed scopeSpans in OTLP 0.19: upgrade the exporter',
      });
      return;
    }
    scopeSpans.forEach((ss: unknown, j) => {
      const ssPath = `${rsPath}.scopeSpans[${j}]`;
      const spans = isObject(ss) ? (ss.spans ?? []) : undefined;
      if (!Array.isArray(spans)) {
        result.errors.push({ path: ssPath, error: `expected an object with a spans array: ${bodyHint}` });
        return;
      }
      const scope = readScope(isObject(ss) ? ss.scope : undefined);
      spans.forEach((raw: unknown, k) => {
        const flat = otlpSpanToFlat(raw, resource, scope);
        if (flat.ok) result.spans.push(flat.value);
        else result.errors.push({ path: `${ssPath}.spans[${k}]`, error: flat.error });
      });
    });
  });
  return result;
}
