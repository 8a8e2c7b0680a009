/**
 * bench:online-ingest — does online evaluation slow ingest down? Online evaluation runs off
 * the ingest path (the API only writes traces; a worker reads them afterwards), so the only
 * way it can is by competing for the database and the machine. This measures that.
 *
 * One PostgreSQL, the API in its own process (bench/ingest-api.ts, as `flywheel api`), and an
 * online evaluator in its own process (bench/online-evaluator-loop.ts: the evaluateOnline
 * activity back to back, every trace in the share, code checks and the judge on each through
 * the simulator). Clients post JSONL batches of live traces; their request latencies are
 * recorded in alternating blocks with the evaluator running and stopped (SIGSTOP/SIGCONT),
 * so a change in the machine's load during the run falls on both arms alike.
 *
 *   npm run bench:online-ingest [-- --blocks 16 --block-seconds 15 --clients 2 --share 0.1 --every 0 --rate N --nice 0]
 *
 * Writes bench/results/online-ingest.json: p50/p99 request latency with and without the
 * evaluator, the difference at p99, requests and traces scored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectDatabase } from '../db/connection.js';
import { startEmbeddedDatabase } from '../db/embedded-database.js';
import { migrateToLatest } from '../db/migrate.js';
import { ensureAgent } from '../registry/store/agent-repository.js';
import { createAgentToken } from '../registry/store/agent-tokens.js';
import { AIRLINE_SCENARIO, loadScenario } from '../test/simulator/scenario.js';
import { freePort } from '../test/helpers/local-infrastructure.js';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    blocks: { type: 'string', default: '16' },
    'block-seconds': { type: 'string', default: '15' },
    clients: { type: 'string', default: '2' },
    share: { type: 'string', default: '0.1' },
    /** Runs the evaluator at this niceness: as a worker on another host or at low priority would compete. */
    nice: { type: 'string', default: '0' },
    /**
     * Pins the evaluator (and its model server, the simulator) to this CPU, as a worker on its
     * own host: run the bench itself pinned to the other one (`taskset -c 0 npm run …`), so
     * PostgreSQL, the API and the clients share that CPU in both arms and the evaluator reaches
     * them only through the database.
     */
    'evaluator-cpu': { type: 'string' },
    /**
     * Seconds between evaluator runs (the product's schedule: 300). 0, the default, runs them
     * back to back: with a backlog always waiting, the evaluator works at its paced rate the
     * whole time, the most the product's configuration lets it do.
     */
    every: { type: 'string', default: '0' },
    /**
     * `online.maxTracesPerSecond`; unset, the product's default. A large value (1000) scores
     * each batch as fast as the simulator answers, as online evaluation did before pacing.
     */
    rate: { type: 'string' },
  },
});
const blocks = Number(args.blocks);
const blockMs = Number(args['block-seconds']) * 1000;
const clients = Number(args.clients);
const AGENT = 'airline';
const log = (line: string) => console.log(`bench:online-ingest │ ${line}`);

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/**
 * A 95 % interval for "p99 with the evaluator minus p99 without", by resampling whole
 * off/on block pairs (each pair ran back to back, so the machine's drift over the run stays
 * inside a pair): p99 between runs varies by a few ms, so one figure alone says little about
 * a 1 ms target. Seeded, so a rerun on the same latencies gives the same interval.
 */
function p99DifferenceInterval(perBlock: { arm: 'off' | 'on'; ms: number[] }[]): [number, number] {
  const pairs: { off: number[]; on: number[] }[] = [];
  for (let i = 0; i + 1 < perBlock.length; i += 2) {
    const [a, b] = [perBlock[i]!, perBlock[i + 1]!];
    pairs.push(a.arm === 'off' ? { off: a.ms, on: b.ms } : { off: b.ms, on: a.ms });
  }
  let seed = 20261207;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const differences: number[] = [];
  for (let r = 0; r < 1000; r++) {
    const off: number[] = [];
    const on: number[] = [];
    for (let k = 0; k < pairs.length; k++) {
      const pair = pairs[Math.floor(random() * pairs.length)]!;
      off.push(...pair.off);
      on.push(...pair.on);
    }
    differences.push(quantile(on, 0.99) - quantile(off, 0.99));
  }
  return [Number(quantile(differences, 0.025).toFixed(2)), Number(quantile(differences, 0.975).toFixed(2))];
}

const keepAlive = new Agent({ keepAlive: true });
function post(url: string, body: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: keepAlive,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/x-ndjson',
          'content-length': String(Buffer.byteLength(body)),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function waitFor(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const m = pattern.exec(chunk.toString());
      if (m) resolve(m[1] ?? m[0]);
    });
    child.once('exit', (code) => reject(new Error(`bench child exited with ${code}`)));
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'online-ingest-'));
const database = await startEmbeddedDatabase({
  dataDir: path.join(dir, 'pg'),
  port: await freePort(),
  persistent: false,
});
const db = connectDatabase(database.url, 4);
const children: ChildProcess[] = [];
try {
  await migrateToLatest(db);
  await ensureAgent(db, AGENT, {
    online: {
      enabled: true,
      sampleShare: Number(args.share),
      settleSeconds: 0,
      // The product's defaults (500 a run, 4 a second) unless a rate is given.
      ...(args.rate === undefined ? {} : { maxTracesPerRun: 5000, maxTracesPerSecond: Number(args.rate) }),
    },
    evaluation: { cascade: { enabled: false } },
  });
  const token = (await createAgentToken(db, { agent: AGENT, scopes: ['ingest'], createdBy: 'bench' })).token;
  const api = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'bench/ingest-api.ts'), database.url],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(api);
  const apiUrl = await waitFor(api, /listening on (\S+)/);
  const pin = args['evaluator-cpu'] === undefined ? [] : ['taskset', '-c', args['evaluator-cpu']];
  const evaluator = spawn(
    pin[0] ?? 'nice',
    [
      ...pin.slice(1),
      ...(pin.length > 0 ? ['nice'] : []),
      '-n',
      args.nice,
      process.execPath,
      '--import',
      'tsx',
      path.join(root, 'bench/online-evaluator-loop.ts'),
      database.url,
      AGENT,
      args.every,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(evaluator);
  await waitFor(evaluator, /ready/);
  let scoredRuns = 0;
  let judgeCalls = 0;
  let tracesScored = 0;
  evaluator.stdout.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.startsWith('{')) continue;
      const r = JSON.parse(line) as { sampled: number; judgeCalls: number };
      scoredRuns++;
      judgeCalls += r.judgeCalls;
      tracesScored += r.sampled;
    }
  });
  evaluator.kill('SIGSTOP');

  // Live traces as the airline agent would send them: a user's request and the agent's step.
  const scenario = loadScenario(AIRLINE_SCENARIO);
  let sequence = 0;
  const batch = () =>
    Array.from({ length: 5 }, () => {
      const n = ++sequence;
      const example = scenario.examples[n % scenario.examples.length]!;
      return JSON.stringify({
        id: `live-${n}`,
        agent: AGENT,
        timestamp: new Date().toISOString(),
        input: { messages: [{ role: 'user', content: example.request }] },
        output: example.expected,
        status: 'ok',
        spans: [],
        attributes: { 'flywheel.slices': example.tags },
      });
    }).join('\n');

  const latencies = { off: [] as number[], on: [] as number[] };
  const perBlock: { arm: 'off' | 'on'; ms: number[] }[] = [];
  const loads: number[] = [];
  // One warm-up block, then alternating off/on blocks.
  for (let b = -1; b < blocks; b++) {
    const arm = b >= 0 && b % 2 === 1 ? 'on' : 'off';
    evaluator.kill(arm === 'on' ? 'SIGCONT' : 'SIGSTOP');
    const until = performance.now() + blockMs;
    const block = { arm, ms: [] as number[] } as const;
    if (b >= 0) perBlock.push(block);
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < until) {
          const body = batch();
          const started = performance.now();
          const status = await post(`${apiUrl}/api/traces`, body, token);
          if (status !== 200) throw new Error(`ingest answered ${status}`);
          if (b >= 0) block.ms.push(performance.now() - started);
          await new Promise((r) => setTimeout(r, 10));
        }
      }),
    );
    loads.push(loadavg()[0]!);
    log(
      `block ${b + 1}/${blocks} (${b < 0 ? 'warm-up' : `evaluator ${arm}`}): load ${loadavg()[0]!.toFixed(1)}`,
    );
  }
  evaluator.kill('SIGCONT');
  for (const block of perBlock) latencies[block.arm].push(...block.ms);
  const ci = p99DifferenceInterval(perBlock);

  const result = {
    command: `npm run bench:online-ingest -- --blocks ${blocks} --block-seconds ${blockMs / 1000} --clients ${clients} --share ${args.share} --nice ${args.nice} --every ${args.every}${args.rate === undefined ? '' : ` --rate ${args.rate}`}${pin.length > 0 ? ` --evaluator-cpu ${args['evaluator-cpu']} (the rest pinned to the other CPU)` : ''}`,
    startedAt: new Date().toISOString(),
    cores: cpus().length,
    meanLoad: Number((loads.reduce((s, l) => s + l, 0) / loads.length).toFixed(1)),
    requests: { off: latencies.off.length, on: latencies.on.length },
    tracesPerRequest: 5,
    p50Ms: {
      off: Number(quantile(latencies.off, 0.5).toFixed(2)),
      on: Number(quantile(latencies.on, 0.5).toFixed(2)),
    },
    p99Ms: {
      off: Number(quantile(latencies.off, 0.99).toFixed(2)),
      on: Number(quantile(latencies.on, 0.99).toFixed(2)),
    },
    p99AddedMs: Number((quantile(latencies.on, 0.99) - quantile(latencies.off, 0.99)).toFixed(2)),
    /** 95 % interval of p99AddedMs: a bootstrap over the off/on block pairs. */
    p99AddedMs95: ci,
    evaluatorRate:
      args.rate === undefined ? 'product default (online.maxTracesPerSecond)' : Number(args.rate),
    evaluator: { runs: scoredRuns, tracesScored, judgeCalls },
  };
  log(JSON.stringify(result));
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  // One file per configuration: the default one, and the stress ones beside it.
  const name =
    args.share === '0.1' &&
    args.nice === '0' &&
    args.every === '0' &&
    args.rate === undefined &&
    pin.length === 0
      ? 'online-ingest'
      : `online-ingest-share${args.share}-nice${args.nice}-every${args.every}${args.rate === undefined ? '' : `-rate${args.rate}`}${pin.length > 0 ? '-pinned' : ''}`;
  writeFileSync(path.join(root, `bench/results/${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  for (const child of children) {
    child.kill('SIGCONT');
    child.kill('SIGTERM');
  }
  await db.destroy();
  await database.stop();
  rmSync(dir, { recursive: true, force: true });
}
