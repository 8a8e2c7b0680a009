/**
 * bench:faults — the same seeded cycles, once under ≥ 100 randomly timed faults and once
 * without, each on a fresh replicated stack (two `flywheel worker` and two `flywheel api`
 * processes, one Temporal dev server, one PostgreSQL, the simulator as the model server:
 * test/helpers/multi-process-stack.ts). Faults (bench/fault-schedule.ts, seeded): kill -9 of a
 * worker or API replica, PostgreSQL restart, kill -9 of the Temporal dev server,
 * pg_terminate_backend on every live session, bursts of model faults (429 with Retry-After,
 * 500/503, slow answers).
 *
 * The faulted run goes first and starts cycles until `--faults` faults have struck (the cycle
 * then running is finished without more faults); the fault-free twin then runs the same
 * number of cycles with the same ids and seeds. Cycles are driven over the API as people do
 * (truthful labels, an approval), retrying on whichever API replica answers.
 *
 * Compared per cycle (bench/cycle-snapshot.ts): the outcome, and every row the cycle stored
 * (samples, scores, clusters, annotations, dataset versions and examples with their lineage,
 * optimizer runs, candidates and their scores, the gate report, the release decision,
 * rollouts), timestamps and serial ids excluded. Also: duplicate rows by natural key, paid
 * model calls repeated beyond the twin's (bench/paid-calls.ts), and any exit of a replica this
 * bench did not kill. Writes bench/results/faults.json.
 *
 *   npm run bench:faults -- [--faults 100] [--seed 1] [--min-gap 2] [--max-gap 7] [--max-cycles 12]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import type { CycleStatus } from '../schemas/cycle-status.js';
import { personWithToken } from '../test/helpers/api-credentials.js';
import {
  startMultiProcessStack,
  type ApiProcess,
  type FlywheelProcess,
  type MultiProcessStack,
} from '../test/helpers/multi-process-stack.js';
import { truthfulLabels, type QueuedItem } from '../test/helpers/truthful-labels.js';
import { compareSnapshots, snapshotCycle, type CycleSnapshot } from './cycle-snapshot.js';
import { FaultActions, type InjectedFault } from './fault-actions.js';
import { FAULT_KINDS, FaultSchedule } from './fault-schedule.js';
import { paidCallReport, type LoggedCall } from './paid-calls.js';
import { seedSharedWeek } from '../test/helpers/seeded-week.js';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    faults: { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
    'min-gap': { type: 'string', default: '2' },
    'max-gap': { type: 'string', default: '7' },
    'max-cycles': { type: 'string', default: '12' },
  },
});
const targetFaults = Number(args.faults);
const seed = Number(args.seed);
const gap = { min: Number(args['min-gap']) * 1000, max: Number(args['max-gap']) * 1000 };
const maxCycles = Number(args['max-cycles']);
const log = (line: string) => console.log(`faults │ ${new Date().toISOString().slice(11, 19)} ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (p: FlywheelProcess) => p.child.exitCode === null && p.child.signalCode === null;

interface CycleRun {
  id: string;
  outcome: string;
  seconds: number;
  stagesSeen: string[];
}

interface RunResult {
  cycles: CycleRun[];
  snapshots: CycleSnapshot[];
  calls: LoggedCall[];
  faults: InjectedFault[];
  killTimes: number[];
  crashes: string[];
  duplicateRows: { cycle: string; table: string; keys: string; n: number }[];
  serverLog: string[];
  loads: number[];
  seconds: number;
}

/** The cycle settings of the scale-out test (its gate passes on the seeded week), with long deadlines. */
function cycleInput(n: number) {
  return {
    agent: 'demo',
    seed: 100 * seed + n,
    sampleRate: 0.4,
    maxAnnotationItems: 30,
    // Far beyond any stall a fault causes: a deadline that expires in one run only would
    // make the outcomes differ for a reason that is not a fault of the product.
    annotationDeadlineSeconds: 3600,
    approvalDeadlineSeconds: 3600,
    optimizer: { budget: { maxRollouts: 600, maxTeacherCalls: 60 }, maxHistoryEvents: 40 },
    rollout: { steps: [{ setWeight: 50 }, { setWeight: 100 }] },
  };
}

/** Rows that must be unique per cycle: a retried activity may not write its rows twice. */
async function duplicateRows(stack: MultiProcessStack, cycleId: string) {
  const ofRun = sql`candidate_id in (select c.id from candidates c join optimization_runs r on r.id = c.run_id
    where r.cycle_id = ${cycleId})`;
  const ofRollout = sql`rollout_id in (select id from rollouts where cycle_id = ${cycleId})`;
  const keyed: [string, string[], ReturnType<typeof sql>?][] = [
    ['samples', ['trace_id']],
    ['scores', ['trace_id', 'dimension', 'source']],
    ['scores', ['trace_id', 'evaluator']],
    ['annotation_items', ['trace_id']],
    ['candidate_scores', ['candidate_id', 'example_id'], ofRun],
    ['optimization_runs', ['cycle_id']],
    ['dataset_versions', ['cycle_id']],
    ['gate_reports', ['cycle_id']],
    ['release_decisions', ['cycle_id']],
    ['approvals', ['cycle_id', 'approver']],
    ['rollouts', ['cycle_id']],
    ['rollout_steps', ['rollout_id', 'step_index', 'round'], ofRollout],
  ];
  const found: RunResult['duplicateRows'] = [];
  for (const [table, keys, where] of keyed) {
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from (select 1 from ${sql.table(table)}
      where ${where ?? sql`cycle_id = ${cycleId}`} group by ${sql.join(keys.map((k) => sql.ref(k)))}
      having count(*) > 1) d`.execute(stack.db);
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0) found.push({ cycle: cycleId, table, keys: keys.join(','), n });
  }
  return found;
}

async function run(mode: 'faulted' | 'twin', cyclesToRun: number | null): Promise<RunResult> {
  const began = Date.now();
  log(`${mode}: starting the stack (2 workers, 2 APIs, Temporal, PostgreSQL, simulator)`);
  const stack = await startMultiProcessStack({ prefix: `flywheel-faults-${mode}`, superviseServers: true });
  const loads: number[] = [];
  const loadTimer = setInterval(() => loads.push(loadavg()[0]!), 5000);
  try {
    // Six days back from now: a cycle started up to a day later still sees every trace, in
    // the faulted run (slower) and in the twin alike.
    await seedSharedWeek(stack, {
      traces: 240,
      days: 6,
      seed: 5,
      actor: 'bench',
      reason: 'consecutive cycles share one seeded week',
    });
    const [workers, apis] = await Promise.all([
      Promise.all([stack.startWorker('worker-1'), stack.startWorker('worker-2')]),
      Promise.all([stack.startApi('api-1'), stack.startApi('api-2')]),
    ]);
    const [operator, reviewer, approver] = await Promise.all([
      personWithToken(stack.db, 'faults-operator', 'operator'),
      personWithToken(stack.db, 'faults-reviewer', 'reviewer'),
      personWithToken(stack.db, 'faults-approver', 'approver'),
    ]);
    const actions = new FaultActions(stack, workers, apis, log);
    const crashes: string[] = [];
    const watched = new Set<number>();
    const watch = () => {
      for (const p of [...actions.workers, ...actions.apis]) {
        if (watched.has(p.pid)) continue;
        watched.add(p.pid);
        void p.exited.then((e) => {
          if (!actions.killedPids.has(p.pid) && !stopping)
            crashes.push(`${p.name} exited (${e.signal ?? e.code}): ${p.output().slice(-800)}`);
        });
      }
    };
    let stopping = false;
    watch();
    const watcher = setInterval(watch, 1000);

    // One request to whichever API replica answers; a refused connection, a 5xx or a 503
    // while a dependency is away is retried on the next replica (as a load balancer does).
    let next = 0;
    const call = async (method: string, url: string, headers: object, body?: unknown): Promise<unknown> => {
      const deadline = Date.now() + 300_000;
      let last = '';
      while (Date.now() < deadline) {
        const live = actions.apis.filter(alive);
        const api: ApiProcess | undefined = live[next++ % Math.max(1, live.length)];
        if (!api) {
          await sleep(500);
          continue;
        }
        try {
          const res = await fetch(`${api.url}${url}`, {
            method,
            headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            signal: AbortSignal.timeout(30_000),
          });
          const text = await res.text();
          if (res.ok) return JSON.parse(text) as unknown;
          last = `${res.status} ${text.slice(0, 300)}`;
          if (res.status < 500) throw new ClientError(last);
        } catch (error) {
          if (error instanceof ClientError) throw error;
          last = String(error);
        }
        await sleep(500);
      }
      throw new Error(`${method} ${url}: no API answered within 300 s (last: ${last})`);
    };

    const faults: InjectedFault[] = [];
    const schedule = new FaultSchedule(seed, gap);
    const injecting =
      mode === 'faulted'
        ? (async () => {
            while (faults.length < targetFaults) {
              const planned = schedule.next();
              await sleep(planned.gapMs);
              const fault = await actions.inject(faults.length + 1, planned);
              faults.push(fault);
              log(
                `fault ${fault.n}/${targetFaults} ${fault.kind}: ${fault.detail}${fault.recoveredMs === null ? '' : ` (whole again in ${(fault.recoveredMs / 1000).toFixed(1)} s)`}`,
              );
            }
          })()
        : Promise.resolve();

    const cycles: CycleRun[] = [];
    for (let n = 1; n <= maxCycles; n++) {
      if (cyclesToRun !== null ? n > cyclesToRun : faults.length >= targetFaults) break;
      const id = `cycle-demo-faults-${n}`;
      const started = Date.now();
      const input = cycleInput(n);
      try {
        await call('POST', '/api/cycles', operator.headers, { id, input });
      } catch (error) {
        // A POST whose answer was lost (its API killed) is retried and then finds the cycle
        // already started: that is the cycle we asked for.
        if (!(error instanceof ClientError && /already|exists|409/.test(error.message))) throw error;
      }
      const stagesSeen: string[] = [];
      // Answered once each; a request whose answer was lost is retried inside call().
      let annotated = false;
      let approved = false;
      let status: CycleStatus;
      for (;;) {
        status = (await call('GET', `/api/cycles/${id}`, operator.headers)) as CycleStatus;
        if (stagesSeen.at(-1) !== status.stage) stagesSeen.push(status.stage);
        if (status.stage === 'done') break;
        try {
          if (status.stage === 'awaiting_annotation' && !annotated) {
            const { items } = (await call('GET', `/api/cycles/${id}/annotations`, reviewer.headers)) as {
              items: QueuedItem[];
            };
            if (items.length > 0) {
              annotated = true;
              await call('POST', `/api/cycles/${id}/annotations`, reviewer.headers, {
                labels: truthfulLabels(stack.scenario, items, 'faults reviewer'),
              });
            }
          }
          if (status.stage === 'awaiting_approval' && !approved) {
            approved = true;
            await call('POST', `/api/cycles/${id}/approve`, approver.headers, { comment: 'faults bench' });
          }
        } catch (error) {
          // A resubmission after a lost answer may be refused as already given: the next
          // status poll shows whether the cycle moved on.
          if (!(error instanceof ClientError)) throw error;
          log(`${id}: ${error.message.slice(0, 200)}`);
        }
        if (Date.now() - started > 20 * 60_000) throw new Error(`${id} stuck at ${status.stage} for 20 min`);
        await sleep(1000);
      }
      const seconds = Math.round((Date.now() - started) / 1000);
      cycles.push({ id, outcome: status.outcome, seconds, stagesSeen });
      log(`${mode}: ${id} ${status.outcome} in ${seconds} s (${faults.length} faults so far)`);
    }
    await injecting;
    await actions.settle();
    stopping = true;
    clearInterval(watcher);
    // The stack is whole again before anything is read back.
    await sleep(2000);
    const snapshots: CycleSnapshot[] = [];
    const duplicates: RunResult['duplicateRows'] = [];
    for (const c of cycles) {
      snapshots.push(await snapshotCycle(stack.db, c.id));
      duplicates.push(...(await duplicateRows(stack, c.id)));
    }
    return {
      cycles,
      snapshots,
      calls: stack.simulator.requests.map((r) => ({ ...r })),
      faults,
      killTimes: actions.killTimes,
      crashes,
      duplicateRows: duplicates,
      serverLog: [...stack.serverLog],
      loads,
      seconds: Math.round((Date.now() - began) / 1000),
    };
  } finally {
    clearInterval(loadTimer);
    await stack.teardown();
  }
}

class ClientError extends Error {}

async function main() {
  const startedAt = new Date();
  const faulted = await run('faulted', null);
  log(
    `faulted run: ${faulted.cycles.length} cycles, ${faulted.faults.length} faults in ${faulted.seconds} s`,
  );
  const twin = await run('twin', faulted.cycles.length);
  log(`twin run: ${twin.cycles.length} cycles in ${twin.seconds} s`);

  const comparisons = faulted.cycles.map((c, i) => {
    const t = twin.cycles[i];
    const differences =
      t && faulted.snapshots[i] && twin.snapshots[i]
        ? compareSnapshots(faulted.snapshots[i], twin.snapshots[i])
        : [{ table: '(missing twin)', rowsFaulted: 0, rowsTwin: 0, onlyFaulted: [], onlyTwin: [] }];
    const rows = Object.values(faulted.snapshots[i]?.tables ?? {}).reduce((s, r) => s + r.length, 0);
    return {
      id: c.id,
      outcome: c.outcome,
      twinOutcome: t?.outcome ?? null,
      seconds: c.seconds,
      twinSeconds: t?.seconds ?? null,
      rowsCompared: rows,
      identical: t?.outcome === c.outcome && differences.length === 0,
      differences,
    };
  });
  const paid = paidCallReport(faulted.calls, twin.calls, faulted.killTimes);
  // Which faults struck between a duplicated call's first answer and its repeat: the likely cause.
  const duplicateCauses = paid.examples.map((e) => ({
    model: e.model,
    gapMs: e.repeatStartedAt - e.firstEndedAt,
    faultsBetween: faulted.faults
      .filter((f) => f.at >= e.firstEndedAt - 5000 && f.at <= e.repeatStartedAt)
      .map((f) => `${f.kind} ${f.at - e.firstEndedAt} ms after`),
  }));
  const byKind = Object.fromEntries(
    FAULT_KINDS.map((k) => [k, faulted.faults.filter((f) => f.kind === k).length]),
  );
  const mean = (xs: number[]) => +(xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length)).toFixed(2);
  const result = {
    command: `npm run bench:faults -- ${process.argv.slice(2).join(' ')}`.trim(),
    startedAt: startedAt.toISOString(),
    seed,
    faultsInjected: faulted.faults.length,
    faultsByKind: byKind,
    cyclesCompared: comparisons.length,
    cyclesIdentical: comparisons.filter((c) => c.identical).length,
    processCrashes: faulted.crashes.length + twin.crashes.length,
    duplicatePaidCalls: paid.duplicatePaidCalls,
    duplicateRows: faulted.duplicateRows.length + twin.duplicateRows.length,
    paidCalls: paid,
    duplicateCauses,
    machine: {
      cpus: cpus().length,
      meanLoad1: { faulted: mean(faulted.loads), twin: mean(twin.loads) },
      maxLoad1: Math.max(...faulted.loads, ...twin.loads),
    },
    seconds: { faulted: faulted.seconds, twin: twin.seconds, total: faulted.seconds + twin.seconds },
    cycles: comparisons,
    crashes: [...faulted.crashes, ...twin.crashes],
    duplicateRowDetails: [...faulted.duplicateRows, ...twin.duplicateRows],
    faults: faulted.faults.map((f) => ({
      ...f,
      at: new Date(f.at).toISOString(),
    })),
    serverLog: faulted.serverLog,
  };
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.join(root, 'bench/results/faults.json'), `${JSON.stringify(result, null, 2)}\n`);
  log(
    `faults ${result.faultsInjected} ${JSON.stringify(byKind)}; cycles identical ${result.cyclesIdentical}/${result.cyclesCompared}; crashes ${result.processCrashes}; duplicate paid calls ${result.duplicatePaidCalls} (repeats after a kill ${paid.repeatedAfterCrash}); duplicate rows ${result.duplicateRows}`,
  );
  for (const c of comparisons.filter((x) => !x.identical))
    log(
      `${c.id}: ${c.outcome} vs twin ${c.twinOutcome}; differs in ${c.differences.map((d) => d.table).join(', ')}`,
    );
  log(`wrote bench/results/faults.json (${result.seconds.total} s)`);
}

await main();
process.exit(0);
