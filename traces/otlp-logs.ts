import { z } from 'zod';
import type { SpanEvent } from '../schemas/trace.js';
import { formatIssues } from '../schemas/format-issues.js';
import { anyValueToJs, keyValuesToRecord, OtlpAnyValue, OtlpKeyValue, OtlpResource } from './otlp-json.js';
import { implausibleNanos, nanosToIso, parseNanos } from './otlp-time.js';
import { nestsDeeperThan, tooDeepMessage } from './json-depth.js';

/**
 * OTLP/HTTP JSON `ExportLogsServiceRequest` to span events. The OTel GenAI instrumentations
 * record the messages of a model call as log events (`gen_ai.user.message`,
 * `gen_ai.choice`, ...) by default, tied to the call's span by trace and span id; as span
 * events they reach the same reader as events the span carried itself. A log record with no
 * span to join names no conversation, so it is rejected with the reason.
 */

export interface SpanLogEvent {
  traceId: string;
  spanId: string;
  resource: Record<string, unknown>;
  event: SpanEvent;
}

export interface LogFlattenResult {
  events: SpanLogEvent[];
  errors: { path: string; error: string }[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const hex = (bytes: number) => new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`);

const OtlpLogRecord = z.object({
  timeUnixNano: z.union([z.string(), z.number()]).optional(),
  observedTimeUnixNano: z.union([z.string(), z.number()]).optional(),
  severityNumber: z.union([z.number(), z.string()]).optional(),
  severityText: z.string().optional(),
  body: OtlpAnyValue.optional(),
  attributes: z.array(OtlpKeyValue, { error: 'attributes must be an array of {key, value}' }).default([]),
  traceId: z.string().optional(),
  spanId: z.string().optional(),
  eventName: z.string().optional(),
});

const bodyHint =
  'send an OTLP/HTTP JSON ExportLogsServiceRequest: {"resourceLogs":[{"resource":{...},"scopeLogs":[{"logRecords":[...]}]}]}';

function time(value: string | number | undefined): string | undefined {
  const ns = value === undefined ? undefined : parseNanos(value);
  if (ns === undefined || ns === 0n || implausibleNanos(ns) !== undefined) return undefined;
  return nanosToIso(ns);
}

/** A log record as the span event it stands for; GenAI bodies go where span-event emitters put them. */
function recordToEvent(r: z.output<typeof OtlpLogRecord>): SpanEvent {
  const attributes = keyValuesToRecord(r.attributes);
  const attributeName = typeof attributes['event.name'] === 'string' ? attributes['event.name'] : undefined;
  const name = r.eventName || attributeName || 'log';
  if (attributeName !== undefined && attributeName === name) delete attributes['event.name'];
  if (r.body !== undefined) {
    const body = anyValueToJs(r.body);
    // GenAI event bodies are structured; as span events they ride as JSON in gen_ai.event.content.
    if (name.startsWith('gen_ai.') && typeof body === 'object' && body !== null)
      attributes['gen_ai.event.content'] = JSON.stringify(body);
    else attributes['log.body'] = body;
  }
  if (r.severityText) attributes['log.severity'] = r.severityText;
  const at = time(r.timeUnixNano) ?? time(r.observedTimeUnixNano);
  return { name, ...(at === undefined ? {} : { time: at }), attributes };
}

export function flattenOtlpLogsRequest(body: unknown): LogFlattenResult {
  const result: LogFlattenResult = { events: [], errors: [] };
  if (!isObject(body) || !Array.isArray(body.resourceLogs)) {
    result.errors.push({ path: '(body)', error: `no resourceLogs array: ${bodyHint}` });
    return result;
  }
  body.resourceLogs.forEach((rl: unknown, i) => {
    const rlPath = `resourceLogs[${i}]`;
    if (!isObject(rl)) {
      result.errors.push({
        path: rlPath,
        error: `expected an object with resource and scopeLogs: ${bodyHint}`,
      });
      return;
    }
    if (nestsDeeperThan(rl.resource)) {
      result.errors.push({
        path: `${rlPath}.resource`,
        error: `${tooDeepMessage('the resource')}; its logs were skipped`,
      });
      return;
    }
    const parsedResource = OtlpResource.safeParse(rl.resource ?? {});
    if (!parsedResource.success) {
      result.errors.push({
        path: `${rlPath}.resource`,
        error: `${formatIssues(parsedResource.error, { root: '' })}; its logs were skipped`,
      });
      return;
    }
    const resource = keyValuesToRecord(parsedResource.data.attributes);
    const scopeLogs = rl.scopeLogs ?? [];
    if (!Array.isArray(scopeLogs)) {
      result.errors.push({ path: `${rlPath}.scopeLogs`, error: `expected an array: ${bodyHint}` });
      return;
    }
    scopeLogs.forEach((sl: unknown, j) => {
      const slPath = `${rlPath}.scopeLogs[${j}]`;
      const records = isObject(sl) ? (sl.logRecords ?? []) : undefined;
      if (!Array.isArray(records)) {
        result.errors.push({
          path: slPath,
          error: `expected an object with a logRecords array: ${bodyHint}`,
        });
        return;
      }
      records.forEach((raw: unknown, k) => {
        const path = `${slPath}.logRecords[${k}]`;
        if (nestsDeeperThan(raw)) {
          result.errors.push({ path, error: tooDeepMessage('the log record') });
          return;
        }
        const parsed = OtlpLogRecord.safeParse(raw);
        if (!parsed.success) {
          result.errors.push({ path, error: formatIssues(parsed.error, { root: '' }) });
          return;
        }
        const { traceId, spanId } = parsed.data;
        if (
          !traceId ||
          !spanId ||
          !hex(16).test(traceId) ||
          !hex(8).test(spanId) ||
          /^0+$/.test(traceId) ||
          /^0+$/.test(spanId)
        ) {
          result.errors.push({
            path,
            error:
              'a log record joins its span by traceId (32 hex characters) and spanId (16); this one has none or a malformed one. ' +
              'Emit it inside the span it belongs to (GenAI instrumentations do when tracing is on)',
          });
          return;
        }
        result.events.push({
          traceId: traceId.toLowerCase(),
          spanId: spanId.toLowerCase(),
          resource,
          event: recordToEvent(parsed.data),
        });
      });
    });
  });
  return result;
}
