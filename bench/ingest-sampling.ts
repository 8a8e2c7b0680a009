/**
 * The weekly-sampling phase of bench:ingest (bench/ingest-bench.ts): fills the windows,
 * then times cold, distinct sampling runs and reports what every policy stage did.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { SampleResult } from '../activities/sample-traces.js';
import { insertCycle, setCycleStage } from '../cycles/store/cycle-repository.js';
import { ensureAgent } from '../registry/store/agent-repository.js';
import { TracePartitions } from '../traces/store/trace-partitions.js';
import {
  blockCounters,
  insertSyntheticTraces,
  syntheticFillSummary,
  vacuumTraces,
} from '../traces/store/synthetic-traces.js';
import type { BenchDatabase } from './bench-database.js';
import { watchCpu, type CpuShare } from './cpu-watch.js';
import { quantile } from './statistics.js';

const root = path.resolve(import.meta.dirname, '..');
const DAY = 86_400_000;
const log = (line: string) => console.log(line);

const SampleRunOutput = z.object({
  ms: z.number(),
  result: z.object({
    sampled: z.number(),
    negative: z.number(),
    random: z.number(),
    inWindow: z.number(),
    inWindowExact: z.boolean().optional(),
    byReason: z.record(z.string(), z.number()),
    skipped: z.object({ exactDuplicate: z.number(), nearDuplicate: z.number(), userCap: z.number() }),
    redactions: z.record(z.string(), z.number()),
  }) satisfies z.ZodType<SampleResult>,
});

/** One sample in a fresh Node process (bench/ingest-sample-run.ts); its JSON line, validated. */
async function sampleInChild(input: {
  databaseUrl: string;
  cycleId: string;
  agent: string;
  windowStart: string;
  windowEnd: string;
  seed: number;
}): Promise<z.infer<typeof SampleRunOutput>> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'bench/ingest-sample-run.ts'), JSON.stringify(input)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const lines = Buffer.concat(chunks).toString('utf8').trim().split('\n');
  if (code !== 0) throw new Error(`sample run ${input.cycleId} exited with ${code}: ${lines.join(' ')}`);
  const parsed = SampleRunOutput.safeParse(JSON.parse(lines.at(-1) ?? 'null'));
  if (!parsed.success) throw new Error(`sample run ${input.cycleId}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export interface SampleRun extends SampleResult {
  run: number;
  seed: number;
  windowStart: string;
  windowEnd: string;
  ms: number;
  /** Blocks Postgres read from the OS (whose cache was evicted) and found in shared buffers. */
  blocksRead: number;
  blocksHit: number;
  dataDirCachedMbAtStart: number;
  loadAverage1m: number;
  /** Cores other processes on the machine used during the run (child start to exit). */
  otherProcessesCores: number;
}

const SAMPLING_POLICY = {
  rate: 0.01,
  maxSample: 1000,
  perUserCap: 5,
  strata: { custom: [{ name: 'big_refund', where: 'refund_amount > 500' }] },
};

function sumCounts(records: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) for (const [k, n] of Object.entries(r)) out[k] = (out[k] ?? 0) + n;
  return out;
}

export interface SamplePhaseOptions {
  /** Traces in each 7-day window. */
  perWindow: number;
  runs: number;
  /** How much earlier each run's window ends than the previous run's. */
  windowShiftHours: number;
}

/**
 * 3. Weekly sampling: cold, distinct runs over windows of `perWindow` traces filled by
 * INSERT … SELECT. Run r samples the window ending r × shift before the newest trace, with
 * seed r; before it, Postgres restarts with its data directory out of the page cache, and
 * the activity runs in a fresh Node process.
 */
export async function samplePhase(
  database: BenchDatabase,
  now: Date,
  { perWindow, runs, windowShiftHours }: SamplePhaseOptions,
) {
  const shiftMs = windowShiftHours * 3_600_000;
  await ensureAgent(database.db, 'bench', { sampling: SAMPLING_POLICY });
  // Windows end at fillEnd, fillEnd - shift, …; the fill covers all of them at one density.
  const fillEnd = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const fillStart = new Date(fillEnd.getTime() - 7 * DAY - (runs - 1) * shiftMs);
  const spacingSeconds = (7 * DAY) / 1000 / perWindow;
  const fillCount = Math.round((fillEnd.getTime() - fillStart.getTime()) / 1000 / spacingSeconds);
  const days = Math.ceil((fillEnd.getTime() - fillStart.getTime()) / DAY) + 2;
  await new TracePartitions(database.db).ensure(
    Array.from({ length: days }, (_, i) =>
      new Date(fillStart.getTime() + (i - 1) * DAY).toISOString().slice(0, 10),
    ),
  );
  const fillStarted = performance.now();
  // One INSERT … SELECT per core at a time: each is one backend's CPU.
  const chunk = 250_000;
  const chunks = Array.from({ length: Math.ceil(fillCount / chunk) }, (_, i) => i * chunk + 1);
  let filled = 0;
  await Promise.all(
    Array.from({ length: availableParallelism() }, async () => {
      for (let a = chunks.shift(); a !== undefined; a = chunks.shift()) {
        const b = Math.min(fillCount, a + chunk - 1);
        await insertSyntheticTraces(database.db, {
          windowStart: fillStart,
          spacingSeconds,
          first: a,
          last: b,
        });
        filled += b - a + 1;
        process.stdout.write(`\rfill: ${filled.toLocaleString()} / ${fillCount.toLocaleString()}`);
      }
    }),
  );
  const fillSeconds = (performance.now() - fillStarted) / 1000;
  const vacuumStarted = performance.now();
  await vacuumTraces(database.db);
  const vacuumSeconds = (performance.now() - vacuumStarted) / 1000;
  const windowOf = (r: number) => {
    const end = new Date(fillEnd.getTime() - r * shiftMs);
    return { windowStart: new Date(end.getTime() - 7 * DAY), windowEnd: end };
  };
  const first = windowOf(0);
  const lastWindow = windowOf(runs - 1);
  const { tracesInTable, inWindow, size } = await syntheticFillSummary(
    database.db,
    first.windowStart,
    first.windowEnd,
  );
  const inLastWindow = (await syntheticFillSummary(database.db, lastWindow.windowStart, lastWindow.windowEnd))
    .inWindow;
  log(
    `\nfill: ${tracesInTable.toLocaleString()} traces in table (${inWindow.toLocaleString()} in the newest 7-day window, ${inLastWindow.toLocaleString()} in the oldest, ${size}) in ${fillSeconds.toFixed(0)} s, vacuum ${vacuumSeconds.toFixed(0)} s`,
  );

  const perRun: SampleRun[] = [];
  const phaseWatch = watchCpu();
  for (let r = 0; r < runs; r++) {
    const { windowStart, windowEnd } = windowOf(r);
    const cycleId = `bench-cycle-${r}`;
    const window = { windowStart: windowStart.toISOString(), windowEnd: windowEnd.toISOString() };
    await insertCycle(database.db, { cycleId, agent: 'bench', runId: 'bench', ...window, input: {} });
    await setCycleStage(database.db, cycleId, 'sampling', 'running');
    // Server statistics survive a clean restart; the difference is what the run read.
    const before = await blockCounters(database.db);
    const residentMb = await database.restartCold();
    const load1 = loadavg()[0] ?? 0;
    const watch = watchCpu(250);
    const { ms, result } = await sampleInChild({
      databaseUrl: database.url,
      cycleId,
      agent: 'bench',
      ...window,
      seed: r,
    });
    const cpu = watch.stop();
    // Backends flush their statistics as they exit, just after the child closed them.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await blockCounters(database.db);
    perRun.push({
      run: r,
      seed: r,
      ...window,
      ms: Math.round(ms),
      blocksRead: after.read - before.read,
      blocksHit: after.hit - before.hit,
      dataDirCachedMbAtStart: residentMb,
      loadAverage1m: +load1.toFixed(2),
      otherProcessesCores: cpu.otherCores,
      ...result,
    });
    process.stdout.write(
      `\rsample: run ${r + 1}/${runs}: ${Math.round(ms)} ms, ${after.read - before.read} blocks read    `,
    );
  }
  const cpu: CpuShare = phaseWatch.stop();
  const times = perRun.map((p) => p.ms);
  const sampleWeekP95Ms = quantile(times, 0.95);
  const skipped = sumCounts(perRun.map((p) => p.skipped));
  const redactions = sumCounts(perRun.map((p) => p.redactions));
  const byReason = sumCounts(perRun.map((p) => p.byReason));
  // How many of the runs each stage changed something in: the proof that it ran.
  const runsWhere = (test: (p: SampleRun) => boolean) => perRun.filter(test).length;
  const stageRuns = {
    exactDuplicateSkips: runsWhere((p) => p.skipped.exactDuplicate > 0),
    nearDuplicateSkips: runsWhere((p) => p.skipped.nearDuplicate > 0),
    userCapSkips: runsWhere((p) => p.skipped.userCap > 0),
    redactions: runsWhere((p) => Object.keys(p.redactions).length > 0),
  };
  log(
    `\nsample: p50 ${quantile(times, 0.5).toFixed(0)} ms, p95 ${sampleWeekP95Ms.toFixed(0)} ms, max ${Math.max(...times)} ms over ${runs} cold runs; ` +
      `skipped ${JSON.stringify(skipped)}, redactions ${JSON.stringify(redactions)}, runs with each stage ${JSON.stringify(stageRuns)}`,
  );
  const missing = Object.entries(stageRuns).filter(([, n]) => n === 0);
  if (missing.length > 0)
    log(`WARNING: no run had ${missing.map(([k]) => k).join(', ')}: that stage was not exercised.`);

  return {
    sampleWeekP95Ms,
    tracesInTable,
    sampling: {
      tracesPerWindow: perWindow,
      tracesInNewestWindow: inWindow,
      tracesInOldestWindow: inLastWindow,
      tableSize: size,
      fillSeconds: Math.round(fillSeconds),
      vacuumSeconds: Math.round(vacuumSeconds),
      runs,
      design:
        `run r samples the 7-day window ending r × ${windowShiftHours} h before the newest trace with seed r; ` +
        'before each run Postgres is restarted and the page cache of its data directory evicted, and the sampling ' +
        'activity runs in a fresh Node process (time includes opening its connections)',
      p50Ms: Math.round(quantile(times, 0.5)),
      p95Ms: Math.round(sampleWeekP95Ms),
      minMs: Math.min(...times),
      maxMs: Math.max(...times),
      policy:
        'rate 0.01, maxSample 1000, perUserCap 5, strata: negative feedback, escalations, errors, refund_amount > 500; exact + near dedup; redaction (email, phone, card, IBAN, IP); skip traces earlier cycles sampled',
      data: 'traces/store/synthetic-traces.ts: 5 % anonymous, Zipf-like users over 1M ids (top user ~1.5 % of traffic); 25 % FAQ requests from a pool of 320 written six ways; PII in ~10 % of texts and a client IP in 2 % of attributes',
      totals: { byReason, skipped, redactions },
      runsWithStage: stageRuns,
      cpuDuringRuns: cpu,
      perRun,
    },
  };
}
