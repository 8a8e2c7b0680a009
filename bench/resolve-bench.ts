/**
 * bench:resolve — GET /api/prompts/:name/resolve under load while a rollout's weight moves.
 *
 * Embedded Postgres and the production API server (one process: this one) serve an agent
 * with a production and a candidate version and a running rollout. A forked load generator
 * (bench/resolve-load.ts, its own process and core) drives keep-alive HTTP for `--seconds`
 * while a timer here sets a new weight every `--weight-every-ms`. Then:
 * - client-side latency per request (p50/p90/p99/max), requests/s, errors;
 * - every answer's variant is checked against the unit's bucket at the weight it reports,
 *   and that weight against the weights in effect around the request: it must have been
 *   current at some moment in [request start − staleness bound, request end], where the
 *   bound is the routing refresh interval plus `--slack-ms` for one refresh round;
 * - CPU split between the server process, the load generator and everything else
 *   (Postgres, the OS), from process CPU times and /proc/stat.
 *
 *   npm run bench:resolve -- [--seconds 15] [--connections 4] [--refresh-ms 250] [--weight-every-ms 200]
 */
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer } from '../api/http-server.js';
import { servesCandidate } from '../release/sticky-bucket.js';
import { ensureAgent } from '../registry/store/agent-repository.js';
import { createAgentToken } from '../registry/store/agent-tokens.js';
import { connectDatabase } from '../db/connection.js';
import { startEmbeddedDatabase } from '../db/embedded-database.js';
import { migrateToLatest } from '../db/migrate.js';
import { createVersion } from '../registry/store/prompt-repository.js';
import { insertRolloutRow, setRolloutWeight } from '../release/store/rollout-repository.js';
import { freePort } from '../test/helpers/test-stack.js';
import type { LoadResult, LoadSettings } from './resolve-load.js';
import { quantile } from './statistics.js';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '4' },
    units: { type: 'string', default: '100000' },
    'refresh-ms': { type: 'string', default: '250' },
    'weight-every-ms': { type: 'string', default: '200' },
    'slack-ms': { type: 'string', default: '50' },
  },
});
const seconds = Number(args.seconds);
const connections = Number(args.connections);
const units = Number(args.units);
const refreshMs = Number(args['refresh-ms']);
const weightEveryMs = Number(args['weight-every-ms']);
const boundMs = refreshMs + Number(args['slack-ms']);
const AGENT = 'bench-agent';
const ROLLOUT = 'ro-bench-1';
// Consecutive weights differ, so a stale answer cannot pass for a current one.
const WEIGHTS = [5, 10, 20, 35, 50, 65, 80, 95, 70, 45, 25, 15];

const clock = () => performance.timeOrigin + performance.now();
const log = (line: string) => console.log(line);

/** Busy CPU time of the whole machine (all cores), in seconds, from /proc/stat. */
function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return (fields.reduce((s, x) => s + x, 0) - idle) / 100;
}

/** A realistic system prompt (~1.6 KB): the answer carries it on every request. */
const promptText = (variant: string) =>
  Array.from(
    { length: 24 },
    (_, i) => `${i + 1}. (${variant}) Follow the airline policy for reservations, refunds and changes.`,
  ).join('\n');

async function main() {
  const dir = path.join(root, '.flywheel', 'bench-resolve');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const database = await startEmbeddedDatabase({
    dataDir: path.join(dir, 'pg'),
    port: await freePort(),
    persistent: false,
  });
  const db = connectDatabase(database.url, 4);
  const control = connectDatabase(database.url, 2);
  try {
    await migrateToLatest(db);
    await ensureAgent(db, AGENT);
    const base = {
      name: AGENT,
      agent: AGENT,
      type: 'text' as const,
      createdBy: 'bench',
      source: 'seed' as const,
    };
    const v1 = await createVersion(db, { ...base, prompt: promptText('v1'), labels: ['production'] });
    const v2 = await createVersion(db, { ...base, prompt: promptText('v2'), labels: ['candidate'] });
    await insertRolloutRow(db, {
      id: ROLLOUT,
      cycle_id: null,
      agent_id: AGENT,
      release_decision_id: null,
      baseline_version_id: v1.version.id,
      candidate_version_id: v2.version.id,
      weight: WEIGHTS[0]!,
      status: 'running',
      reason: null,
      ended_at: null,
      workflow_id: null,
    });
    const api = await startApiServer(apiDeps(db, new Client(), { routingRefreshMs: refreshMs }), 0);
    // The agent resolves with its own token, so authentication is part of what is measured.
    const { token } = await createAgentToken(db, { agent: AGENT, scopes: ['resolve'], createdBy: 'bench' });
    const warm = await fetch(`${api.url}/api/prompts/${AGENT}/resolve?unit=warm`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!warm.ok) throw new Error(`warm-up resolve failed: ${warm.status} ${await warm.text()}`);
    const bodyBytes = (await warm.text()).length;
    log(`API on ${api.url}; answer ${bodyBytes} bytes; ${connections} connections for ${seconds} s`);

    // The weight schedule: when each update was sent and when its commit returned.
    const schedule: { weight: number; sentAt: number; committedAt: number }[] = [
      { weight: WEIGHTS[0]!, sentAt: -Infinity, committedAt: -Infinity },
    ];
    let step = 0;
    let updating = false;
    const timer = setInterval(() => {
      if (updating) return;
      updating = true;
      const weight = WEIGHTS[++step % WEIGHTS.length]!;
      const sentAt = clock();
      void setRolloutWeight(control, ROLLOUT, weight)
        .then(() => schedule.push({ weight, sentAt, committedAt: clock() }))
        .finally(() => (updating = false));
    }, weightEveryMs);

    const settings: LoadSettings = {
      url: api.url,
      token,
      name: AGENT,
      seconds,
      connections,
      units,
      seed: 17,
    };
    const cpuBefore = process.cpuUsage();
    const busyBefore = machineBusySeconds();
    const wallBefore = clock();
    const child = fork(path.join(root, 'bench/resolve-load.ts'), [JSON.stringify(settings)], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
    });
    const load = await new Promise<LoadResult>((resolve, reject) => {
      child.once('message', (m) => resolve(m as LoadResult));
      child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    });
    clearInterval(timer);
    const wallSeconds = (clock() - wallBefore) / 1000;
    const serverCpu = process.cpuUsage(cpuBefore);
    const serverCoreSeconds = (serverCpu.user + serverCpu.system) / 1e6;
    const machineCoreSeconds = machineBusySeconds() - busyBefore;
    const loadCoreSeconds = load.cpuMicros / 1e6;
    await api.close();

    // Checks.
    const latencies: number[] = [];
    let errors = 0;
    let bucketMismatches = 0;
    let staleBeyondBound = 0;
    let maxStalenessMs = 0;
    for (let i = 0; i < load.count; i++) {
      latencies.push(load.endedAt[i]! - load.startedAt[i]!);
      if (load.candidate[i] === -1) {
        errors++;
        continue;
      }
      const weight = load.weight[i]!;
      const candidate = load.candidate[i] === 1;
      if (
        candidate !== servesCandidate(`u-${load.unit[i]}`, ROLLOUT, weight) ||
        load.version[i] !== (candidate ? 2 : 1)
      )
        bucketMismatches++;
      // The weight answered must have been current at some moment in [start − bound, end].
      let fresh = false;
      let staleness = Infinity;
      for (let s = schedule.length - 1; s >= 0; s--) {
        const entry = schedule[s]!;
        if (entry.weight !== weight || entry.sentAt > load.endedAt[i]!) continue;
        const supersededAt = schedule[s + 1]?.committedAt ?? Infinity;
        staleness = Math.min(staleness, Math.max(0, load.startedAt[i]! - supersededAt));
        if (supersededAt + boundMs >= load.startedAt[i]!) fresh = true;
        if (fresh) break;
      }
      if (!fresh) staleBeyondBound++;
      if (Number.isFinite(staleness)) maxStalenessMs = Math.max(maxStalenessMs, staleness);
    }
    const requestsPerSec = load.count / (load.wallMs / 1000);
    const summary = {
      requestsPerSec: Math.round(requestsPerSec),
      p50Ms: +quantile(latencies, 0.5).toFixed(3),
      p90Ms: +quantile(latencies, 0.9).toFixed(3),
      p99Ms: +quantile(latencies, 0.99).toFixed(3),
      maxMs: +latencies.reduce((m, x) => Math.max(m, x), 0).toFixed(3),
      requests: load.count,
      errors,
      bucketInconsistencies: bucketMismatches,
      staleBeyondBound,
      maxObservedStalenessMs: Math.round(maxStalenessMs),
      weightChanges: schedule.length - 1,
      settings: {
        seconds,
        connections,
        units,
        refreshMs,
        stalenessBoundMs: boundMs,
        weightEveryMs,
        answerBytes: bodyBytes,
        apiProcesses: 1,
        cacheControl: 'max-age=1 (the load generator ignores it: every request reaches the server)',
      },
      cpu: {
        wallSeconds: +wallSeconds.toFixed(2),
        serverCores: +(serverCoreSeconds / wallSeconds).toFixed(2),
        loadGeneratorCores: +(loadCoreSeconds / wallSeconds).toFixed(2),
        otherCores: +(
          Math.max(0, machineCoreSeconds - serverCoreSeconds - loadCoreSeconds) / wallSeconds
        ).toFixed(2),
        machineCores: cpus().length,
        note: 'other = Postgres (routing refresh and weight updates), the OS and anything else running on the machine',
      },
      machine: { cores: cpus().length, node: process.version },
      targets: { requestsPerSec: 5000, p99Ms: 5 },
      sampleErrors: load.errors,
    };
    console.table({
      'requests/s': { value: summary.requestsPerSec, target: '≥ 5000' },
      'p50 ms': { value: summary.p50Ms, target: '' },
      'p90 ms': { value: summary.p90Ms, target: '' },
      'p99 ms': { value: summary.p99Ms, target: '< 5' },
      'max ms': { value: summary.maxMs, target: '' },
      requests: { value: summary.requests, target: '' },
      errors: { value: errors, target: '0' },
      'bucket inconsistencies': { value: bucketMismatches, target: '0' },
      [`stale beyond ${boundMs} ms`]: { value: staleBeyondBound, target: '0' },
      'max observed staleness ms': { value: summary.maxObservedStalenessMs, target: `≤ ${boundMs}` },
      'weight changes': { value: summary.weightChanges, target: '' },
      'CPU server / load / other (cores)': {
        value: `${summary.cpu.serverCores} / ${summary.cpu.loadGeneratorCores} / ${summary.cpu.otherCores}`,
        target: '',
      },
    });
    mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    writeFileSync(path.join(root, 'bench/results/resolve.json'), JSON.stringify(summary, null, 2) + '\n');
    log('wrote bench/results/resolve.json');
  } finally {
    await control.destroy();
    await db.destroy();
    await database.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
