/**
 * bench:coaching — POST /api/agents/:id/coaching/recall under load with 10,000 coaching
 * memories for one agent.
 *
 * Embedded Postgres and the production API server (one process: this one) serve an agent
 * whose 10,000 active coaching memories are every (action, object, condition) of
 * bench/coaching-situations.ts, embedded by the API's default embedder (the local hashed
 * TF-IDF, no model). A forked load generator (bench/coaching-load.ts, its own process)
 * drives keep-alive HTTP for `--seconds`: every request is a new conversation in a random
 * situation, so what is measured is the whole recall path (authentication, validation,
 * embedding the conversation, probing the IVF index, ranking, formatting, JSON). Then:
 * - client-side latency per request (p50/p90/p99/max), requests/s, errors;
 * - how often the situation's own coaching was among the k recalled (`targetRecalled`);
 * - in-process, on 1,000 fresh requests: the IVF answer against an exact scan of all
 *   10,000 (`agreement`), and the time of each (no HTTP); the scan of the probed rows in the
 *   index's kernel (WebAssembly SIMD) and in the JavaScript loop it falls back to;
 * - the index build (first recall: read, k-means, lists) and the CPU split between the
 *   server, the load generator and everything else.
 *
 *   npm run bench:coaching -- [--seconds 15] [--connections 4] [--probes 8]
 */
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer } from '../api/http-server.js';
import { CoachingIndexes } from '../coaching/coaching-index-service.js';
import { CoachingRecall } from '../coaching/coaching-recall-service.js';
import { normalised, recall } from '../coaching/coaching-recall.js';
import { probedRows } from '../coaching/situation-clusters.js';
import { localSituationEmbedder } from '../coaching/situation-embedder.js';
import { vectorScan } from '../coaching/vector-scan.js';
import { insertCoaching } from '../coaching/store/coaching-repository.js';
import { connectDatabase } from '../db/connection.js';
import { startEmbeddedDatabase } from '../db/embedded-database.js';
import { migrateToLatest } from '../db/migrate.js';
import { ensureAgent } from '../registry/store/agent-repository.js';
import { createAgentToken } from '../registry/store/agent-tokens.js';
import { DEFAULT_COACHING_THRESHOLD } from '../schemas/coaching.js';
import { freePort } from '../test/helpers/test-stack.js';
import {
  behaviourText,
  benchCoachingId,
  requestText,
  situationText,
  SITUATION_COUNT,
} from './coaching-situations.js';
import type { LoadResult, LoadSettings } from './coaching-load.js';
import { quantile } from './statistics.js';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '4' },
    probes: { type: 'string', default: '8' },
  },
});
const seconds = Number(args.seconds);
const connections = Number(args.connections);
const probes = Number(args.probes);
const AGENT = 'bench-coaching';
const SYSTEM_PROMPT =
  'You are an airline customer service agent. Help users book, modify or cancel reservations. Make one tool call at a time.';
const log = (line: string) => console.log(line);

function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return (fields.reduce((s, x) => s + x, 0) - idle) / 100;
}

const ms = (xs: number[], q: number) => +quantile(xs, q).toFixed(3);

async function main() {
  const dir = path.join(root, '.flywheel', 'bench-coaching');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const database = await startEmbeddedDatabase({
    dataDir: path.join(dir, 'pg'),
    port: await freePort(),
    persistent: false,
  });
  const db = connectDatabase(database.url, 4);
  try {
    await migrateToLatest(db);
    await ensureAgent(db, AGENT);
    const embedder = localSituationEmbedder();
    const situations = Array.from({ length: SITUATION_COUNT }, (_, i) => situationText(i));
    const vectors = await embedder.embed(situations);
    const ids = situations.map((_, i) => benchCoachingId(i));
    const seedStart = performance.now();
    for (let from = 0; from < SITUATION_COUNT; from += 1000) {
      await db.transaction().execute(async (tx) => {
        for (let i = from; i < Math.min(SITUATION_COUNT, from + 1000); i++)
          await insertCoaching(tx, ids[i]!, AGENT, {
            situation: situations[i]!,
            embedding: vectors[i]!,
            embedder: embedder.name,
            behaviour: { kind: 'reply', text: behaviourText(i) },
            example: null,
            sourceTraceId: null,
            sourceStep: null,
            threshold: DEFAULT_COACHING_THRESHOLD,
            status: 'active',
            createdBy: 'bench',
            reason: 'bench:coaching',
          });
      });
    }
    log(
      `stored ${SITUATION_COUNT} coaching memories in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
    );

    const indexes = new CoachingIndexes(db, embedder);
    const coaching = new CoachingRecall(indexes, { probes });
    const deps = Object.assign(apiDeps(db, new Client()), { coaching });
    const api = await startApiServer(deps, 0);
    const { token } = await createAgentToken(db, { agent: AGENT, scopes: ['resolve'], createdBy: 'bench' });
    const buildStart = performance.now();
    const warm = await fetch(`${api.url}/api/agents/${AGENT}/coaching/recall`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: requestText(0, 0) }] }),
    });
    if (!warm.ok) throw new Error(`warm-up recall failed: ${warm.status} ${await warm.text()}`);
    const indexBuildMs = performance.now() - buildStart;
    const answerBytes = (await warm.text()).length;
    const index = await indexes.get(AGENT);
    log(
      `API on ${api.url}; index of ${index.memories.length} memories in ${index.clusters?.lists ?? 0} lists built in ${indexBuildMs.toFixed(0)} ms; ${connections} connections for ${seconds} s`,
    );

    const settings: LoadSettings = {
      url: api.url,
      token,
      agent: AGENT,
      seconds,
      connections,
      systemPrompt: SYSTEM_PROMPT,
      seed: 23,
    };
    const loadBefore = loadavg()[0]!;
    const cpuBefore = process.cpuUsage();
    const busyBefore = machineBusySeconds();
    const wallBefore = performance.now();
    const child = fork(path.join(root, 'bench/coaching-load.ts'), [JSON.stringify(settings)], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
    });
    const load = await new Promise<LoadResult>((resolve, reject) => {
      child.once('message', (m) => resolve(m as LoadResult));
      child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    });
    const wallSeconds = (performance.now() - wallBefore) / 1000;
    const serverCpu = process.cpuUsage(cpuBefore);
    const serverCoreSeconds = (serverCpu.user + serverCpu.system) / 1e6;
    const machineCoreSeconds = machineBusySeconds() - busyBefore;
    const loadCoreSeconds = load.cpuMicros / 1e6;
    const loadAfter = loadavg()[0]!;
    await api.close();
    indexes.stop();

    const latencies: number[] = [];
    let errors = 0;
    let targetRecalled = 0;
    let returned = 0;
    for (let i = 0; i < load.count; i++) {
      latencies.push(load.endedAt[i]! - load.startedAt[i]!);
      if (load.recalled[i] === -1) errors++;
      else {
        targetRecalled += load.recalled[i]!;
        returned += load.returned[i]!;
      }
    }
    const answered = load.count - errors;

    // In-process: the IVF answer against the exact scan of all memories, same queries.
    const matrix = index.matrix!;
    const limits = { k: 3, maxTokens: 600, reservedTokens: 0 };
    let agree = 0;
    let exactTarget = 0;
    const ivfMs: number[] = [];
    const exactMs: number[] = [];
    const embedMs: number[] = [];
    // The scan of the probed rows in the kernel the index runs (WebAssembly SIMD on Node ≥ 20)
    // and in the JavaScript loop it falls back to, over a copy of the same matrix.
    const jsScan = vectorScan(matrix.candidates.length, matrix.dimensions, { kernel: 'js' });
    jsScan.vectors.set(matrix.vectors);
    const kernelScanMs: number[] = [];
    const jsScanMs: number[] = [];
    const samples = 1000;
    for (let s = 0; s < samples; s++) {
      const situation = (s * 7919) % SITUATION_COUNT;
      const t0 = performance.now();
      const [vector] = await embedder.embed([requestText(situation, 1_000_000 + s)]);
      const t1 = performance.now();
      const rows = probedRows(index.clusters!, normalised(vector!), probes);
      const viaIvf = recall(matrix, vector!, limits, rows).map((h) => h.row);
      const t2 = performance.now();
      const exact = recall(matrix, vector!, limits).map((h) => h.row);
      const t3 = performance.now();
      const q = normalised(vector!);
      const k0 = performance.now();
      matrix.scan.dots(q, rows);
      const k1 = performance.now();
      jsScan.dots(q, rows);
      kernelScanMs.push(k1 - k0);
      jsScanMs.push(performance.now() - k1);
      embedMs.push(t1 - t0);
      ivfMs.push(t2 - t1);
      exactMs.push(t3 - t2);
      if (viaIvf.join() === exact.join()) agree++;
      if (exact.includes(situation)) exactTarget++;
    }

    const requestsPerSec = load.count / (load.wallMs / 1000);
    const summary = {
      memories: index.memories.length,
      requestsPerSec: Math.round(requestsPerSec),
      p50Ms: ms(latencies, 0.5),
      p90Ms: ms(latencies, 0.9),
      p99Ms: ms(latencies, 0.99),
      maxMs: +latencies.reduce((m, x) => Math.max(m, x), 0).toFixed(3),
      requests: load.count,
      errors,
      targetRecalled: +(targetRecalled / Math.max(1, answered)).toFixed(4),
      meanRecalled: +(returned / Math.max(1, answered)).toFixed(2),
      ivf: {
        lists: index.clusters?.lists ?? 0,
        probes,
        agreementWithExactScan: +(agree / samples).toFixed(4),
        exactScanTargetRecalled: +(exactTarget / samples).toFixed(4),
        inProcessMs: {
          embedQueryP50: ms(embedMs, 0.5),
          embedQueryP99: ms(embedMs, 0.99),
          ivfRecallP50: ms(ivfMs, 0.5),
          ivfRecallP99: ms(ivfMs, 0.99),
          exactScanP50: ms(exactMs, 0.5),
          exactScanP99: ms(exactMs, 0.99),
        },
        scanOfProbedRowsMs: {
          kernel: matrix.scan.kernel,
          kernelP50: ms(kernelScanMs, 0.5),
          kernelP99: ms(kernelScanMs, 0.99),
          javascriptP50: ms(jsScanMs, 0.5),
          javascriptP99: ms(jsScanMs, 0.99),
        },
        indexBuildMs: Math.round(indexBuildMs),
        note: 'agreement = share of 1,000 fresh requests whose IVF answer (ids and order) equals the exact scan of every memory',
      },
      settings: {
        seconds,
        connections,
        k: 3,
        maxTokens: 600,
        threshold: DEFAULT_COACHING_THRESHOLD,
        embedder: embedder.name,
        dimensions: matrix.dimensions,
        scanKernel: matrix.scan.kernel,
        answerBytes,
        apiProcesses: 1,
        requests: 'every request a new conversation (distinct text) in a random one of the 10,000 situations',
      },
      cpu: {
        wallSeconds: +wallSeconds.toFixed(2),
        serverCores: +(serverCoreSeconds / wallSeconds).toFixed(2),
        loadGeneratorCores: +(loadCoreSeconds / wallSeconds).toFixed(2),
        otherCores: +(
          Math.max(0, machineCoreSeconds - serverCoreSeconds - loadCoreSeconds) / wallSeconds
        ).toFixed(2),
        machineCores: cpus().length,
        serverCpuMsPerRequest: +((serverCoreSeconds * 1000) / Math.max(1, load.count)).toFixed(3),
        loadAverage1mBefore: +loadBefore.toFixed(2),
        loadAverage1mAfter: +loadAfter.toFixed(2),
        note: 'other = Postgres, the OS and anything else running on the machine (other sessions share it)',
      },
      machine: { cores: cpus().length, node: process.version },
      targets: { memories: 10_000, requestsPerSec: 2000, p99Ms: 10 },
      sampleErrors: load.errors,
    };
    console.table({
      memories: { value: summary.memories, target: '10,000' },
      'requests/s': { value: summary.requestsPerSec, target: '≥ 2000' },
      'p50 ms': { value: summary.p50Ms, target: '' },
      'p99 ms': { value: summary.p99Ms, target: '< 10' },
      errors: { value: errors, target: '0' },
      'situation recalled': { value: summary.targetRecalled, target: '' },
      'IVF = exact scan': { value: summary.ivf.agreementWithExactScan, target: '' },
      'scan of probed rows p50 ms (kernel / JS)': {
        value: `${summary.ivf.scanOfProbedRowsMs.kernelP50} (${matrix.scan.kernel}) / ${summary.ivf.scanOfProbedRowsMs.javascriptP50}`,
        target: '',
      },
      'CPU server / load / other (cores)': {
        value: `${summary.cpu.serverCores} / ${summary.cpu.loadGeneratorCores} / ${summary.cpu.otherCores}`,
        target: '',
      },
    });
    mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    writeFileSync(path.join(root, 'bench/results/coaching.json'), JSON.stringify(summary, null, 2) + '\n');
    log('wrote bench/results/coaching.json');
  } finally {
    await db.destroy();
    await database.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
