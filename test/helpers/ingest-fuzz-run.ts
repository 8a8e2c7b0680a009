import fc from 'fast-check';
import type { Db } from '../../db/connection.js';
import { fuzzBodyArb, type FuzzPath } from './ingest-fuzz.js';

export interface IngestFuzzReport {
  path: FuzzPath;
  runs: number;
  seed: number;
  statuses: Record<string, number>;
  /** Requests answered 5xx, with what was broken. */
  serverErrors: { status: number; description: string; body: string }[];
  /** Accepted requests whose valid trace is missing from the database. */
  validLost: { traceId: string; status: number; description: string }[];
  validStored: number;
  /** Requests where the server rejected something (partial success, 400 with details). */
  partlyRejected: number;
}

/** Sends `runs` generated bodies to a running API and checks the database after each. */
export async function runIngestFuzz(options: {
  db: Db;
  url: string;
  token: string;
  agent: string;
  path: FuzzPath;
  runs: number;
  seed: number;
}): Promise<IngestFuzzReport> {
  const report: IngestFuzzReport = {
    path: options.path,
    runs: options.runs,
    seed: options.seed,
    statuses: {},
    serverErrors: [],
    validLost: [],
    validStored: 0,
    partlyRejected: 0,
  };
  let counter = options.seed % 1_000_000;
  const endpoint = options.path === 'jsonl' ? '/api/traces' : '/v1/traces';
  const samples = fc.sample(
    fuzzBodyArb(options.path, options.agent, () => ++counter),
    { numRuns: options.runs, seed: options.seed },
  );
  const send = (sample: (typeof samples)[number]) =>
    fetch(`${options.url}${endpoint}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.token}`, 'content-type': sample.contentType },
      body: sample.body,
    });
  for (const sample of samples) {
    let res = await send(sample);
    // The API allows a token so many ingest requests a second; a body refused with 429 was
    // not read, so it is sent again when Retry-After says, as an exporter would.
    while (res.status === 429) {
      report.statuses['429 (sent again)'] = (report.statuses['429 (sent again)'] ?? 0) + 1;
      await res.arrayBuffer();
      const seconds = Number(res.headers.get('retry-after'));
      await new Promise((resolve) => setTimeout(resolve, (seconds > 0 ? seconds : 1) * 1000));
      res = await send(sample);
    }
    const text = await res.text();
    report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
    if (res.status >= 500) {
      report.serverErrors.push({
        status: res.status,
        description: sample.description,
        body: text.slice(0, 300),
      });
      continue;
    }
    const partly =
      res.status === 400 ||
      (res.status === 200 &&
        (text.includes('partialSuccess') ||
          ((res.headers.get('content-type') ?? '').includes('protobuf') && text.length > 0)));
    if (partly) report.partlyRejected += 1;
    // JSON bodies always parse, and JSONL lines stand alone: the valid part must be kept.
    // A protobuf body whose corrupted half breaks decoding is refused whole (400), as OTLP says.
    const mustStore = options.path !== 'otlp-protobuf' || res.status === 200;
    if (!mustStore) continue;
    const stored = await options.db
      .selectFrom('traces')
      .select('id')
      .where('id', '=', sample.validTraceId)
      .executeTakeFirst();
    if (stored) report.validStored += 1;
    else
      report.validLost.push({
        traceId: sample.validTraceId,
        status: res.status,
        description: sample.description,
      });
  }
  return report;
}
