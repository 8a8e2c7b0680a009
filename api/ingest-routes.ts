import { z } from 'zod';
import type { Db } from '../db/connection.js';
import type { TraceWriter } from '../traces/store/trace-writer.js';
import { attachFeedback } from '../traces/feedback-service.js';
import {
  decodeOtlpLogsProtobuf,
  decodeOtlpProtobuf,
  encodeExportResponse,
  encodeLogsExportResponse,
} from '../traces/otlp-protobuf.js';
import {
  IMPORT_FORMATS,
  importTraces,
  ingestJsonl,
  type ImportFormat,
} from '../traces/trace-ingest-service.js';
import { UserError } from '../schemas/user-error.js';
import type { Principal } from '../schemas/principal.js';
import { exportLogs, exportTraces } from './otlp-export.js';
import type { ApiRoute, RouteRequest } from './api-route.js';

export interface IngestRouteDeps {
  db: Db;
  writer: TraceWriter;
  now?: () => Date;
}

/** Ingest routes act for the sending token's agent; the route table allows agent tokens only. */
function agentOf(principal: Principal): string {
  if (principal.kind !== 'agent') throw new UserError('Send traces with an agent token.', 'forbidden');
  return principal.agent;
}

/** The media type, without parameters; OTLP/HTTP defaults to JSON when none is sent. */
export const mediaType = (r: Pick<RouteRequest, 'headers'>) =>
  (r.headers['content-type'] ?? 'application/json').split(';')[0]?.trim();

/** An OTLP body in either encoding, in the OTLP/JSON shape. */
function otlpBody(r: RouteRequest, decodeProtobuf: (raw: Uint8Array) => unknown, message: string): unknown {
  const type = mediaType(r);
  if (type === 'application/x-protobuf') {
    try {
      return decodeProtobuf(r.raw);
    } catch (e) {
      throw new UserError(
        `The body is not an OTLP ${message} protobuf (${e instanceof Error ? e.message : String(e)}).`,
      );
    }
  }
  if (type === 'application/json') return r.json({ checkDepth: false });
  throw new UserError(
    `Send OTLP as application/json or application/x-protobuf, not ${type}.`,
    'unsupported_media_type',
  );
}

const ImportQuery = z.object({
  format: z
    .string()
    .optional()
    .describe(`One of ${IMPORT_FORMATS.join(', ')} (default jsonl)`),
  source: z.string().optional(),
  model: z.string().optional(),
});

/**
 * Trace and feedback ingest. OTLP/HTTP per the spec: a request that decodes is answered 200
 * even when some items were rejected (`partialSuccess` counts and names them), so an
 * exporter neither retries the batch nor drops what was kept; only a body that is not an
 * export request at all is a 400. The answer is in the request's encoding.
 */
export function ingestRoutes(deps: IngestRouteDeps): ApiRoute[] {
  const now = deps.now ?? (() => new Date());
  return [
    {
      method: 'POST',
      url: '/v1/traces',
      tag: 'ingest',
      summary: 'OTLP/HTTP trace export, JSON or protobuf, optionally gzip.',
      auth: { scope: 'ingest' },
      otlp: true,
      handler: async (r) => {
        const body = otlpBody(r, decodeOtlpProtobuf, 'ExportTraceServiceRequest');
        const { report, partialSuccess } = await exportTraces(deps, body, agentOf(r.principal));
        if (mediaType(r) === 'application/x-protobuf')
          return {
            status: 200,
            binary: { contentType: 'application/x-protobuf', data: encodeExportResponse(partialSuccess) },
          };
        // Exporters read only partialSuccess; the rest is for people and scripts reading the answer.
        return {
          status: 200,
          body: {
            ...(partialSuccess ? { partialSuccess } : {}),
            acceptedSpans: report.acceptedSpans,
            newTraces: report.newTraces,
            updatedTraces: report.updatedTraces,
            errors: report.rejected,
          },
        };
      },
    },
    {
      method: 'POST',
      url: '/v1/logs',
      tag: 'ingest',
      summary: 'OTLP/HTTP log export: log records become events of the span they name (GenAI messages).',
      auth: { scope: 'ingest' },
      otlp: true,
      handler: async (r) => {
        const body = otlpBody(r, decodeOtlpLogsProtobuf, 'ExportLogsServiceRequest');
        const { report, partialSuccess } = await exportLogs(deps, body, agentOf(r.principal));
        if (mediaType(r) === 'application/x-protobuf')
          return {
            status: 200,
            binary: { contentType: 'application/x-protobuf', data: encodeLogsExportResponse(partialSuccess) },
          };
        return {
          status: 200,
          body: {
            ...(partialSuccess ? { partialSuccess } : {}),
            acceptedLogRecords: report.acceptedLogRecords,
            attachedToSpans: report.attached,
            waitingForSpans: report.pending,
            errors: report.rejected,
          },
        };
      },
    },
    {
      method: 'POST',
      url: '/api/traces',
      tag: 'ingest',
      summary: 'Traces as JSON Lines, one trace per line; valid lines are kept next to bad ones.',
      auth: { scope: 'ingest' },
      handler: async (r) => {
        const report = await ingestJsonl(deps, r.raw.toString('utf8'), agentOf(r.principal));
        return { status: report.rejected.length > 0 ? 400 : 200, body: report };
      },
    },
    {
      method: 'POST',
      url: '/api/import',
      tag: 'ingest',
      summary: `Import traces from another tool's export (?format=${IMPORT_FORMATS.join('|')}).`,
      auth: { scope: 'ingest' },
      schema: { querystring: ImportQuery },
      handler: async (r) => {
        const format = r.query.get('format') ?? 'jsonl';
        if (!(IMPORT_FORMATS as readonly string[]).includes(format))
          throw new UserError(`Unknown import format "${format}"; use one of ${IMPORT_FORMATS.join(', ')}.`);
        const report = await importTraces(deps, format as ImportFormat, r.raw.toString('utf8'), {
          agent: agentOf(r.principal),
          now: now(),
          ...(r.query.get('source') ? { source: r.query.get('source') ?? '' } : {}),
          ...(r.query.get('model') ? { model: r.query.get('model') ?? '' } : {}),
        });
        return { status: report.rejected.length > 0 ? 400 : 200, body: report };
      },
    },
    {
      method: 'POST',
      url: '/api/feedback',
      tag: 'ingest',
      summary: 'End-user feedback (thumbs, scores, comments) on traces or sessions.',
      auth: { scope: 'feedback' },
      handler: async (r) => {
        const report = await attachFeedback(deps.db, agentOf(r.principal), r.json());
        return { status: report.rejected.length > 0 ? 400 : 200, body: report };
      },
    },
  ];
}
