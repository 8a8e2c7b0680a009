/**
 * bench:drift — does the drift detector catch a new failure mode within one window of its
 * onset, and how often does it cry wolf on traffic that does not change?
 *
 * Each run is 24 simulated days of the airline scenario's traffic (bench/drift-traffic.ts:
 * the simulator's traffic generator and agent, 10, 20 or 40 traces an hour by seed), watched
 * by the detector with its default configuration, checking every hour. Half the runs plant a
 * drift at a random hour between day 6 and day 16: one of the scenario's six failure modes
 * appears, by a prompt that loses its fix (`behaviour`) or by requests of that kind starting
 * to arrive (`input`), alternately. The other half are stationary.
 *
 * - detectionRate: drifted runs whose first alert after the onset comes within one current
 *   window (24 h) of it, and none before it;
 * - falseAlarmsPer30Days: alerts on unchanged traffic (stationary runs, and drifted runs
 *   before their onset) per 30 days of monitored time (time when a test could run);
 * - exactlyOneAlertRate: drifted runs with exactly one alert from the onset to the end.
 *
 * Reported seeds are 1…2·runs; the detector's defaults were chosen on calibration seeds
 * 10001… (`--calibrate`, each configuration tried kept in bench/results/drift-calibration.json).
 *
 *   npm run bench:drift [-- --runs 40 --days 24] [-- --calibrate --config '{"falseAlarmsPer30Days":0.5}']
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DriftConfig, HOUR_MS } from '../evaluation/drift/drift-config.js';
import { unitInterval } from '../optimizers/stable-hash.js';
import { AIRLINE_SCENARIO, loadScenario } from '../test/simulator/scenario.js';
import { CachedModels, driftRun, type PlantedDrift } from './drift-traffic.js';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '40' },
    days: { type: 'string', default: '24' },
    calibrate: { type: 'boolean', default: false },
    config: { type: 'string', default: '{}' },
  },
});
const runsPerArm = Number(args.runs);
const days = Number(args.days);
const seedBase = args.calibrate ? 10_000 : 0;
const config = DriftConfig.parse({ enabled: true, ...(JSON.parse(args.config) as object) });
const scenario = loadScenario(AIRLINE_SCENARIO);
const models = new CachedModels(scenario);
const VOLUMES = [10, 20, 40];

interface RunRow {
  seed: number;
  perHour: number;
  drift: PlantedDrift | null;
  alertHours: number[];
  /** Each alert's strongest finding: slice/metric/test. */
  alertFindings: string[];
  falseAlarms: number;
  monitoredStationaryHours: number;
  detectedAfterHours: number | null;
  firstFinding: string | null;
}

const rows: RunRow[] = [];
const started = performance.now();
for (let i = 1; i <= 2 * runsPerArm; i++) {
  const seed = seedBase + i;
  const perHour = VOLUMES[Math.floor(unitInterval(`volume|${seed}`) * VOLUMES.length)]!;
  const drifted = i % 2 === 1;
  const drift: PlantedDrift | null = drifted
    ? {
        kind: (i >> 1) % 2 === 0 ? 'behaviour' : 'input',
        rule: scenario.rules[Math.floor(unitInterval(`rule|${seed}`) * scenario.rules.length)]!.id,
        onsetHour: Math.floor((6 + unitInterval(`onset|${seed}`) * 10) * 24),
      }
    : null;
  const result = await driftRun({ scenario, config, seed, days, perHour, drift, models });
  const alertHours = result.alerts.map((a) => a.atMs / HOUR_MS);
  const onset = drift?.onsetHour ?? Infinity;
  const before = alertHours.filter((h) => h <= onset);
  const after = result.alerts.filter((a) => a.atMs / HOUR_MS > onset);
  const first = after[0];
  const firstTest = result.firstTestHour ?? days * 24;
  rows.push({
    seed,
    perHour,
    drift,
    alertHours,
    alertFindings: result.alerts.map(
      (a) => `${a.findings[0]!.slice}/${a.findings[0]!.metric}/${a.findings[0]!.test}`,
    ),
    falseAlarms: before.length,
    monitoredStationaryHours: Math.max(0, Math.min(onset, days * 24) - firstTest),
    detectedAfterHours: first && before.length === 0 ? first.atMs / HOUR_MS - onset : null,
    firstFinding: first
      ? `${first.findings[0]!.slice}/${first.findings[0]!.metric}/${first.findings[0]!.test}`
      : null,
  });
  const row = rows[rows.length - 1]!;
  console.log(
    `seed ${seed} ${perHour}/h ${drift ? `${drift.kind} ${drift.rule} at h${drift.onsetHour}` : 'stationary'}: ` +
      `alerts at ${alertHours.join(', ') || 'none'} (${row.alertFindings.join('; ')})`,
  );
}

const windowHours = config.currentWindowHours;
const driftedRows = rows.filter((r) => r.drift);
const detected = driftedRows.filter(
  (r) => r.detectedAfterHours !== null && r.detectedAfterHours <= windowHours,
);
const delays = detected.map((r) => r.detectedAfterHours as number).sort((a, b) => a - b);
const quantile = (xs: number[], q: number) =>
  xs.length ? xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]! : null;
const falseAlarms = rows.reduce((s, r) => s + r.falseAlarms, 0);
const monitoredDays = rows.reduce((s, r) => s + r.monitoredStationaryHours, 0) / 24;
const groupBy = (key: (r: RunRow) => string) => {
  const out: Record<string, { runs: number; detected: number; medianDelayHours: number | null }> = {};
  for (const r of driftedRows) {
    const k = key(r);
    const g = (out[k] ??= { runs: 0, detected: 0, medianDelayHours: null });
    g.runs++;
    if (detected.includes(r)) g.detected++;
  }
  for (const [k, g] of Object.entries(out)) {
    const ds = detected
      .filter((r) => key(r) === k)
      .map((r) => r.detectedAfterHours as number)
      .sort((a, b) => a - b);
    g.medianDelayHours = quantile(ds, 0.5);
  }
  return out;
};

const summary = {
  scenario: scenario.name,
  seeds: args.calibrate
    ? `calibration seeds ${seedBase + 1}-${seedBase + 2 * runsPerArm}`
    : `reported seeds 1-${2 * runsPerArm}; defaults chosen on calibration seeds 10001-10048 and 10001-10024 (bench/results/drift-calibration.json)`,
  daysPerRun: days,
  checkEveryHours: config.checkEveryMinutes / 60,
  detectionWindowHours: windowHours,
  config,
  runs: { drifted: driftedRows.length, stationary: rows.length - driftedRows.length },
  detectionRate: detected.length / driftedRows.length,
  falseAlarmsPer30Days: falseAlarms / (monitoredDays / 30),
  falseAlarms,
  monitoredStationaryDays: Math.round(monitoredDays * 10) / 10,
  medianDetectionDelayHours: quantile(delays, 0.5),
  p90DetectionDelayHours: quantile(delays, 0.9),
  exactlyOneAlertRate:
    driftedRows.filter((r) => r.alertHours.filter((h) => h > r.drift!.onsetHour).length === 1).length /
    driftedRows.length,
  byKind: groupBy((r) => r.drift!.kind),
  byTracesPerHour: groupBy((r) => String(r.perHour)),
  byRule: groupBy((r) => r.drift!.rule),
  detectingFinding: Object.fromEntries(
    [...new Set(detected.map((r) => r.firstFinding!))]
      .sort()
      .map((f) => [f, detected.filter((r) => r.firstFinding === f).length]),
  ),
  missed: driftedRows
    .filter((r) => !detected.includes(r))
    .map((r) => ({
      seed: r.seed,
      perHour: r.perHour,
      drift: r.drift,
      alertHours: r.alertHours,
      alertFindings: r.alertFindings,
    })),
  falseAlarmRuns: rows
    .filter((r) => r.falseAlarms > 0)
    .map((r) => ({
      seed: r.seed,
      perHour: r.perHour,
      drift: r.drift,
      alertHours: r.alertHours,
      alertFindings: r.alertFindings,
    })),
  wallSeconds: Math.round((performance.now() - started) / 1000),
};
console.log(JSON.stringify({ ...summary, config: undefined, byRule: undefined }, null, 2));
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
if (args.calibrate) {
  // One entry per configuration tried, so the file shows the grid the defaults came from.
  const file = path.join(root, 'bench/results/drift-calibration.json');
  const tried = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { override: string }[]) : [];
  const entry = { override: args.config, ...summary };
  writeFileSync(
    file,
    `${JSON.stringify([...tried.filter((t) => t.override !== args.config), entry], null, 2)}\n`,
  );
  console.log('wrote bench/results/drift-calibration.json');
} else {
  writeFileSync(path.join(root, 'bench/results/drift.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log('wrote bench/results/drift.json');
}
