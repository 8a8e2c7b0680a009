import {
  ingestOtlp,
  ingestOtlpLogs,
  type IngestDeps,
  type OtlpLogsReport,
  type OtlpReport,
} from '../traces/trace-ingest-service.js';
import { UserError } from '../schemas/user-error.js';

/**
 * OTLP's partial success for an ingest report: absent when everything was kept, else the
 * count of rejected items and the first reasons, each naming its item. Shared by the HTTP
 * and gRPC receivers so an exporter reads the same answer from either.
 */

type Rejected = readonly { item: string; error: string }[];

function summary(rejected: Rejected): string {
  return rejected
    .slice(0, 20)
    .map((r) => `${r.item}: ${r.error}`)
    .join('; ');
}

function tracePartialSuccess(
  report: OtlpReport,
): { rejectedSpans: number; errorMessage: string } | undefined {
  return report.rejectedSpans > 0
    ? { rejectedSpans: report.rejectedSpans, errorMessage: summary(report.rejected) }
    : undefined;
}

function logsPartialSuccess(
  report: OtlpLogsReport,
): { rejectedLogRecords: number; errorMessage: string } | undefined {
  return report.rejectedLogRecords > 0
    ? { rejectedLogRecords: report.rejectedLogRecords, errorMessage: summary(report.rejected) }
    : undefined;
}

/** A body that is not an export request at all: nothing was read from it. */
function unreadableBody(report: { rejected: Rejected }, accepted: number): string | undefined {
  if (accepted > 0 || !report.rejected.some((r) => r.item === '(body)')) return undefined;
  return report.rejected.map((r) => r.error).join('; ');
}

/**
 * One OTLP trace export, as both receivers answer it: the report and its partial success,
 * or a UserError (400, gRPC INVALID_ARGUMENT) for a body that is not an export request.
 */
export async function exportTraces(deps: IngestDeps, body: unknown, agent: string) {
  const report = await ingestOtlp(deps, body, agent);
  const unreadable = unreadableBody(report, report.acceptedSpans);
  if (unreadable) throw new UserError(unreadable);
  return { report, partialSuccess: tracePartialSuccess(report) };
}

/** One OTLP logs export, as both receivers answer it (see exportTraces). */
export async function exportLogs(deps: IngestDeps, body: unknown, agent: string) {
  const report = await ingestOtlpLogs(deps, body, agent);
  const unreadable = unreadableBody(report, report.acceptedLogRecords);
  if (unreadable) throw new UserError(unreadable);
  return { report, partialSuccess: logsPartialSuccess(report) };
}
