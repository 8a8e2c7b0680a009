/**
 * bench:soak — the replicated stack under steady mixed load for `--minutes` (default 10).
 *
 * One Temporal dev server, one PostgreSQL, the simulator as the model server, and two
 * `flywheel worker` and two `flywheel api` processes (spawned as an operator runs them:
 * test/helpers/multi-process-stack.ts). At the same time, for the whole run:
 * - ingest: simulated users resolve their prompt, the simulated agent answers, and the
 *   traces are posted with the agent's token, alternately as JSONL (/api/traces) and as
 *   OTLP/JSON (/v1/traces), `--ingest-per-second` traces a second;
 * - resolve: an agent resolving prompts for `--resolve-per-second` random units a second,
 *   with no client cache, so every request reaches an API process;
 * - cycles: one improvement cycle after another, started, annotated and approved over the
 *   API by people with their own tokens (truthful labels from the scenario).
 * Requests go round-robin to the two API processes. Every `--sample-seconds` it records the
 * requests served and failed per kind, the load average and the memory of every process:
 * VmRSS of the workers, the APIs, the Temporal server and this process (load generator and
 * simulator), PSS summed over PostgreSQL's processes (bench/process-memory.ts). Memory
 * growth is the median of the last minute against the median of the first minute after
 * `--warmup-minutes`. Writes bench/results/soak.json.
 *
 *   npm run bench:soak -- [--minutes 10] [--warmup-minutes 2] [--sample-seconds 10]
 *                         [--ingest-per-second 4] [--resolve-per-second 10]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FlywheelClient } from '../client/flywheel-client.js';
import { createAgentToken } from '../registry/store/agent-tokens.js';
import { userPhrasing } from '../scripts/demo-traffic.js';
import type { CycleStatus } from '../schemas/cycle-status.js';
import { traceToOtlp } from '../traces/otlp-export.js';
import { personWithToken } from '../test/helpers/api-credentials.js';
import {
  serverPids,
  startMultiProcessStack,
  type ApiProcess,
  type FlywheelProcess,
} from '../test/helpers/multi-process-stack.js';
import { truthfulLabels, type QueuedItem } from '../test/helpers/truthful-labels.js';
import { generateTraffic, resolveWith } from '../test/simulator/traffic.js';
import { watchCpu } from './cpu-watch.js';
import { rssMb, treePssMb } from './process-memory.js';
import { median } from './statistics.js';
import { seedSharedWeek } from '../test/helpers/seeded-week.js';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'warmup-minutes': { type: 'string', default: '2' },
    'sample-seconds': { type: 'string', default: '10' },
    'ingest-per-second': { type: 'string', default: '4' },
    'resolve-per-second': { type: 'string', default: '10' },
  },
});
const minutes = Number(args.minutes);
const warmupMinutes = Math.min(Number(args['warmup-minutes']), minutes / 2);
const sampleSeconds = Number(args['sample-seconds']);
const ingestPerSecond = Number(args['ingest-per-second']);
const resolvePerSecond = Number(args['resolve-per-second']);
const log = (line: string) => console.log(`soak │ ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const KINDS = ['ingest-jsonl', 'ingest-otlp', 'resolve', 'cycle-api'] as const;
type Kind = (typeof KINDS)[number];

/** Requests served and failed per kind: totals, and the counts since the last sample. */
class Tally {
  readonly total = new Map<Kind, { ok: number; failed: number; traces: number }>();
  readonly errors = new Map<string, number>();
  private window = new Map<Kind, { ok: number; failed: number; traces: number }>();

  ok(kind: Kind, traces = 0): void {
    for (const m of [this.total, this.window]) {
      const c = m.get(kind) ?? { ok: 0, failed: 0, traces: 0 };
      m.set(kind, { ...c, ok: c.ok + 1, traces: c.traces + traces });
    }
  }

  failed(kind: Kind, error: unknown): void {
    for (const m of [this.total, this.window]) {
      const c = m.get(kind) ?? { ok: 0, failed: 0, traces: 0 };
      m.set(kind, { ...c, failed: c.failed + 1 });
    }
    const message = `${kind}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 200);
    if (!this.errors.has(message)) log(`error ${message}`);
    this.errors.set(message, (this.errors.get(message) ?? 0) + 1);
  }

  /** The counts since the last call, and a new window. */
  take(): Map<Kind, { ok: number; failed: number; traces: number }> {
    const w = this.window;
    this.window = new Map();
    return w;
  }
}

/** A fetch that throws on anything but 2xx (and 304), with the status and body in the message. */
async function send(url: string, init: RequestInit): Promise<Response> {
  const res = await fetch(url, init);
  if (!res.ok && res.status !== 304)
    throw new Error(`HTTP ${res.status} ${(await res.text()).slice(0, 120)}`);
  return res;
}

async function main() {
  const cpuWatch = watchCpu();
  const startedAt = new Date();
  log(`starting the stack: 2 workers, 2 APIs, Temporal, PostgreSQL, simulator`);
  const stack = await startMultiProcessStack({ prefix: 'flywheel-soak' });
  const processes: FlywheelProcess[] = [];
  try {
    // Consecutive cycles read the seeded week (plus the live traffic) again, as the tests do.
    await seedSharedWeek(stack, {
      traces: 240,
      seed: 5,
      actor: 'bench',
      reason: 'consecutive cycles share one seeded week',
    });
    const [workers, apis] = await Promise.all([
      Promise.all([stack.startWorker('worker-1'), stack.startWorker('worker-2')]),
      Promise.all([stack.startApi('api-1'), stack.startApi('api-2')]),
    ]);
    processes.push(...workers, ...apis);
    const agentToken = (
      await createAgentToken(stack.db, { agent: 'demo', scopes: ['ingest', 'resolve'], createdBy: 'bench' })
    ).token;
    const [operator, reviewer, approver] = await Promise.all([
      personWithToken(stack.db, 'soak-operator', 'operator'),
      personWithToken(stack.db, 'soak-reviewer', 'reviewer'),
      personWithToken(stack.db, 'soak-approver', 'approver'),
    ]);
    let next = 0;
    const api = (): ApiProcess => apis[next++ % apis.length]!;
    const tally = new Tally();
    let running = true;
    const exits: string[] = [];
    for (const p of processes)
      void p.exited.then((e) => {
        if (running) exits.push(`${p.name} exited (${e.signal ?? e.code}): ${p.output().slice(-500)}`);
      });

    // Ingest: one batch a second, alternately JSONL and OTLP, to alternating API processes.
    const resolvers = apis.map((a) =>
      resolveWith(new FlywheelClient({ baseUrl: a.url, token: agentToken }), 'demo'),
    );
    const ingest = (async () => {
      for (let round = 0; running; round++) {
        const started = Date.now();
        const kind: Kind = round % 2 === 0 ? 'ingest-jsonl' : 'ingest-otlp';
        const target = api();
        try {
          const records = await generateTraffic({
            scenario: stack.scenario,
            agent: stack.llm.agent,
            resolve: resolvers[round % resolvers.length]!,
            count: ingestPerSecond,
            start: new Date(Date.now() - ingestPerSecond),
            spacingMs: 1,
            seed: 7,
            idPrefix: `soak-${round}`,
            phrase: userPhrasing,
          });
          const headers = { authorization: `Bearer ${agentToken}`, 'content-type': 'application/json' };
          if (kind === 'ingest-jsonl')
            await send(`${target.url}/api/traces`, {
              method: 'POST',
              headers: { authorization: `Bearer ${agentToken}` },
              body: records.map((r) => JSON.stringify(r)).join('\n'),
            });
          else
            await send(`${target.url}/v1/traces`, {
              method: 'POST',
              headers,
              body: JSON.stringify({
                resourceSpans: records.flatMap(
                  (r) => traceToOtlp(r, { convention: 'openinference' }).resourceSpans,
                ),
              }),
            });
          tally.ok(kind, records.length);
        } catch (error) {
          tally.failed(kind, error);
        }
        await sleep(Math.max(0, 1000 - (Date.now() - started)));
      }
    })();

    // Resolve: every 100 ms a tenth of the second's requests, each for a random unit.
    const resolve = (async () => {
      const perTick = resolvePerSecond / 10;
      let owed = 0;
      while (running) {
        const started = Date.now();
        owed += perTick;
        const now = Math.floor(owed);
        owed -= now;
        await Promise.all(
          Array.from({ length: now }, async () => {
            const unit = `soak-user-${Math.floor(Math.random() * 5000)}`;
            try {
              await send(`${api().url}/api/prompts/demo/resolve?unit=${unit}`, {
                headers: { authorization: `Bearer ${agentToken}` },
              }).then((r) => r.arrayBuffer());
              tally.ok('resolve');
            } catch (error) {
              tally.failed('resolve', error);
            }
          }),
        );
        await sleep(Math.max(0, 100 - (Date.now() - started)));
      }
    })();

    // Cycles, one after another, driven over the API as people do.
    const cycles: { id: string; outcome: string; seconds: number }[] = [];
    const call = async (method: string, url: string, headers: object, body?: unknown): Promise<unknown> => {
      try {
        const res = await send(`${api().url}${url}`, {
          method,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        tally.ok('cycle-api');
        return await res.json();
      } catch (error) {
        tally.failed('cycle-api', error);
        throw error;
      }
    };
    let current: { id: string; stage: string } | undefined;
    const cycling = (async () => {
      for (let n = 1; running; n++) {
        const id = `cycle-demo-soak-${startedAt.getTime()}-${n}`;
        const began = Date.now();
        try {
          await call('POST', '/api/cycles', operator.headers, {
            id,
            input: {
              agent: 'demo',
              seed: n,
              sampleRate: 0.4,
              maxAnnotationItems: 30,
              annotationDeadlineSeconds: 600,
              approvalDeadlineSeconds: 600,
              optimizer: { budget: { maxRollouts: 600, maxTeacherCalls: 60 }, maxHistoryEvents: 40 },
              rollout: { steps: [{ setWeight: 50 }, { setWeight: 100 }] },
            },
          });
          current = { id, stage: 'starting' };
          let annotated = false;
          let approved = false;
          while (running) {
            const status = (await call('GET', `/api/cycles/${id}`, operator.headers)) as CycleStatus;
            current.stage = status.stage;
            if (status.stage === 'done') {
              cycles.push({ id, outcome: status.outcome, seconds: Math.round((Date.now() - began) / 1000) });
              log(`${id}: ${status.outcome} in ${Math.round((Date.now() - began) / 1000)} s`);
              break;
            }
            if (status.stage === 'awaiting_annotation' && !annotated) {
              const { items } = (await call('GET', `/api/cycles/${id}/annotations`, reviewer.headers)) as {
                items: QueuedItem[];
              };
              await call('POST', `/api/cycles/${id}/annotations`, reviewer.headers, {
                labels: truthfulLabels(stack.scenario, items, 'soak reviewer'),
              });
              annotated = true;
            }
            if (status.stage === 'awaiting_approval' && !approved) {
              await call('POST', `/api/cycles/${id}/approve`, approver.headers, { comment: 'soak' });
              approved = true;
            }
            await sleep(1000);
          }
          current = undefined;
        } catch {
          // Counted by call(); the next cycle starts after a pause.
          await sleep(5000);
        }
      }
    })();

    // Sampling.
    const pids = serverPids(stack);
    const samples: {
      t: number;
      load1: number;
      cycleStage: string | null;
      perSecond: Record<string, number>;
      modelCallsPerSecond: number;
      postgresProcesses: number | null;
      failed: Record<string, number>;
      memoryMb: Record<string, number | null>;
    }[] = [];
    const t0 = Date.now();
    let lastSample = t0;
    let modelCallsTotal = 0;
    const memory = (postgres: ReturnType<typeof treePssMb>): Record<string, number | null> => ({
      ...Object.fromEntries(processes.map((p) => [p.name, rssMb(p.pid)])),
      temporal: rssMb(pids.temporal),
      postgres: postgres?.mb ?? null,
      // Split, because the total mixes per-connection memory with shared buffers that fill as
      // the database grows: only the first would be a leak.
      'postgres private': postgres?.anonMb ?? null,
      'postgres shared': postgres?.shmemMb ?? null,
      'bench (load + simulator)': rssMb(process.pid),
    });
    log(
      `running ${minutes} min: ingest ${ingestPerSecond} traces/s, resolve ${resolvePerSecond}/s, consecutive cycles; a sample every ${sampleSeconds} s`,
    );
    while (Date.now() - t0 < minutes * 60_000) {
      await sleep(sampleSeconds * 1000 - ((Date.now() - t0) % (sampleSeconds * 1000)));
      const now = Date.now();
      const window = tally.take();
      const seconds = (now - lastSample) / 1000;
      lastSample = now;
      // The simulator logs every request it answers (tests read the log); here it stands in for
      // an external model server, so the log is counted and emptied rather than left to grow
      // in this process's memory.
      const modelCalls = stack.simulator.requests.splice(0).length;
      modelCallsTotal += modelCalls;
      const postgres = treePssMb(pids.postgres);
      const sample = {
        t: Math.round((now - t0) / 1000),
        load1: +loadavg()[0]!.toFixed(2),
        cycleStage: current ? current.stage : null,
        perSecond: Object.fromEntries(
          KINDS.map((k) => {
            const w = window.get(k);
            const n = k.startsWith('ingest') ? (w?.traces ?? 0) : (w?.ok ?? 0);
            return [k, +(n / seconds).toFixed(2)];
          }),
        ),
        modelCallsPerSecond: +(modelCalls / seconds).toFixed(1),
        postgresProcesses: postgres?.processes ?? null,
        failed: Object.fromEntries(KINDS.map((k) => [k, window.get(k)?.failed ?? 0])),
        memoryMb: memory(postgres),
      };
      samples.push(sample);
      log(
        `t=${sample.t}s load ${sample.load1} cycle ${sample.cycleStage ?? '-'} | model calls ${sample.modelCallsPerSecond}/s, ${KINDS.map((k) => `${k} ${sample.perSecond[k]}/s${sample.failed[k] ? ` (${sample.failed[k]} failed)` : ''}`).join(', ')} | ${Object.entries(
          sample.memoryMb,
        )
          .map(([name, mb]) => `${name} ${mb ?? '-'}`)
          .join(', ')} MB`,
      );
    }
    running = false;
    await Promise.all([ingest, resolve]);
    // The cycle in progress is not waited for: it is reported with the stage it had reached.
    const elapsed = (Date.now() - t0) / 1000;
    const cpu = cpuWatch.stop();

    // Memory growth after warm-up: the first minute after it against the last minute.
    const after = samples.filter((s) => s.t > warmupMinutes * 60);
    const perMinute = Math.max(1, Math.round(60 / sampleSeconds));
    const growth = Object.fromEntries(
      Object.keys(samples[0]?.memoryMb ?? {}).map((name) => {
        const series = after.map((s) => s.memoryMb[name]).filter((x): x is number => x !== null);
        const first = median(series.slice(0, perMinute));
        const last = median(series.slice(-perMinute));
        return [
          name,
          {
            afterWarmupMb: +first.toFixed(1),
            endMb: +last.toFixed(1),
            maxMb: Math.max(...series),
            growthPct: +((100 * (last - first)) / first).toFixed(1),
          },
        ];
      }),
    );
    const totals = Object.fromEntries(
      KINDS.map((k) => {
        const c = tally.total.get(k) ?? { ok: 0, failed: 0, traces: 0 };
        return [
          k,
          {
            requests: c.ok,
            failed: c.failed,
            ...(k.startsWith('ingest')
              ? { traces: c.traces, tracesPerSecond: +(c.traces / elapsed).toFixed(2) }
              : {}),
            requestsPerSecond: +(c.ok / elapsed).toFixed(2),
          },
        ];
      }),
    );
    const errors = [...tally.errors].map(([message, count]) => ({ message, count }));
    const result = {
      command: `npm run bench:soak -- ${process.argv.slice(2).join(' ')}`.trim(),
      startedAt: startedAt.toISOString(),
      minutes,
      warmupMinutes,
      settings: { ingestPerSecond, resolvePerSecond, sampleSeconds, workers: 2, apis: 2 },
      machine: {
        cpus: cpus().length,
        // What else ran on the machine while the soak did (other sessions' builds and tests).
        otherCores: cpu.otherCores,
        soakCores: cpu.benchCores,
        topOthers: cpu.topOthers,
        meanLoad1: +(samples.reduce((s, x) => s + x.load1, 0) / Math.max(1, samples.length)).toFixed(2),
      },
      totals,
      modelCalls: { total: modelCallsTotal, perSecond: +(modelCallsTotal / elapsed).toFixed(1) },
      errors,
      errorCount: errors.reduce((s, e) => s + e.count, 0),
      processExits: exits,
      cycles: { completed: cycles, inProgressAtEnd: current ?? null },
      memory: {
        measure:
          'MB; VmRSS per process; postgres: PSS summed over the postmaster and its backends; growth: median of the last minute vs the first minute after warm-up',
        growth,
      },
      samples,
    };
    mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    writeFileSync(path.join(root, 'bench/results/soak.json'), `${JSON.stringify(result, null, 2)}\n`);
    log(`totals ${JSON.stringify(totals)}`);
    log(
      `errors ${result.errorCount}, process exits ${exits.length}, cycles ${JSON.stringify(result.cycles)}`,
    );
    for (const [name, g] of Object.entries(growth))
      log(
        `${name}: ${g.afterWarmupMb} → ${g.endMb} MB (${g.growthPct >= 0 ? '+' : ''}${g.growthPct} %), max ${g.maxMb}`,
      );
    log(`other processes used ${cpu.otherCores} cores on average; wrote bench/results/soak.json`);
    // The cycle driver stops at its next poll; the cycle itself is not waited for.
    await cycling;
  } finally {
    await stack.teardown();
  }
}

await main();
process.exit(0);
