import { sql } from 'kysely';
import type { Db } from '../db/connection.js';

/**
 * Everything a cycle stored, as rows that are a function of the seed alone, so a cycle run
 * under faults can be compared row for row with its fault-free twin (bench:faults).
 *
 * Left out, on purpose:
 * - every timestamp column (any value that comes back as a Date): wall-clock time differs
 *   between the runs by nature;
 * - `cycles.run_id`, `window_start`, `window_end`: the Temporal run id is random, and the
 *   window is anchored on the cycle's start time (both runs seed their week relative to
 *   their own start, so the same traces fall in it);
 * - the serial ids of scores, annotations and approvals: a sequence value consumed by an
 *   insert that a fault rolled back is never given back, so the numbers shift under faults.
 *   A row referring to an annotation (dataset_examples.annotation_id) is compared through
 *   the annotation's natural key (item, reviewer) instead.
 * Every other id in these tables is derived from the cycle id, which both runs share.
 */

type Row = Record<string, unknown>;

export interface CycleSnapshot {
  cycleId: string;
  /** Table → its rows, each as canonical JSON, sorted. */
  tables: Record<string, string[]>;
}

const SERIAL_IDS = new Set(['scores', 'annotations', 'approvals']);

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object' && !(value instanceof Date))
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Row)[k])]),
    );
  return value;
}

function normalise(table: string, row: Row, annotationKeys: Map<string, string>): string {
  const out: Row = {};
  for (const [column, value] of Object.entries(row)) {
    if (value instanceof Date) continue;
    if (column === 'id' && SERIAL_IDS.has(table)) continue;
    if (table === 'cycles' && ['run_id', 'window_start', 'window_end'].includes(column)) continue;
    if (column === 'annotation_id' && value !== null) {
      const id = JSON.stringify(value);
      out[column] = annotationKeys.get(id) ?? `unknown annotation ${id}`;
      continue;
    }
    out[column] = value;
  }
  return JSON.stringify(canonical(out));
}

export async function snapshotCycle(db: Db, cycleId: string): Promise<CycleSnapshot> {
  const q = async (text: ReturnType<typeof sql>): Promise<Row[]> => (await text.execute(db)).rows as Row[];
  const c = cycleId;
  const runs = sql`select id from optimization_runs where cycle_id = ${c}`;
  const candidates = sql`select id from candidates where run_id in (${runs})`;
  const versions = sql`select id from dataset_versions where cycle_id = ${c}`;
  const items = sql`select id from annotation_items where cycle_id = ${c}`;
  const raw: Record<string, Row[]> = {
    cycles: await q(sql`select * from cycles where id = ${c}`),
    samples: await q(sql`select * from samples where cycle_id = ${c}`),
    scores: await q(sql`select * from scores where cycle_id = ${c}`),
    evaluator_errors: await q(sql`select * from evaluator_errors where cycle_id = ${c}`),
    judge_calibrations: await q(sql`select * from judge_calibrations where cycle_id = ${c}`),
    clusters: await q(sql`select * from clusters where cycle_id = ${c}`),
    cluster_members: await q(
      sql`select * from cluster_members where cluster_id in (select id from clusters where cycle_id = ${c})`,
    ),
    cycle_reports: await q(sql`select * from cycle_reports where cycle_id = ${c}`),
    annotation_queues: await q(sql`select * from annotation_queues where cycle_id = ${c}`),
    annotation_items: await q(sql`select * from annotation_items where cycle_id = ${c}`),
    annotations: await q(sql`select * from annotations where item_id in (${items})`),
    dataset_versions: await q(sql`select * from dataset_versions where cycle_id = ${c}`),
    dataset_examples: await q(sql`select * from dataset_examples where dataset_version_id in (${versions})`),
    dataset_retirements: await q(
      sql`select * from dataset_retirements where dataset_version_id in (${versions})`,
    ),
    optimization_runs: await q(sql`select * from optimization_runs where cycle_id = ${c}`),
    optimization_run_examples: await q(
      sql`select * from optimization_run_examples where run_id in (${runs})`,
    ),
    candidates: await q(sql`select * from candidates where run_id in (${runs})`),
    candidate_scores: await q(sql`select * from candidate_scores where candidate_id in (${candidates})`),
    prompt_versions: await q(sql`select * from prompt_versions where candidate_id in (${candidates})`),
    gate_reports: await q(sql`select * from gate_reports where cycle_id = ${c}`),
    release_decisions: await q(sql`select * from release_decisions where cycle_id = ${c}`),
    approvals: await q(sql`select * from approvals where cycle_id = ${c}`),
    rollouts: await q(sql`select * from rollouts where cycle_id = ${c}`),
    rollout_steps: await q(
      sql`select * from rollout_steps where rollout_id in (select id from rollouts where cycle_id = ${c})`,
    ),
  };
  const annotationKeys = new Map(
    (raw.annotations ?? []).map((a) => [
      JSON.stringify(a.id),
      `${JSON.stringify(a.item_id)}/${JSON.stringify(a.reviewer)}`,
    ]),
  );
  const tables = Object.fromEntries(
    Object.entries(raw).map(([table, rows]) => [
      table,
      rows.map((r) => normalise(table, r, annotationKeys)).sort(),
    ]),
  );
  return { cycleId, tables };
}

export interface SnapshotDifference {
  table: string;
  rowsFaulted: number;
  rowsTwin: number;
  /** A few rows found on one side only. */
  onlyFaulted: string[];
  onlyTwin: string[];
  /** When one row differs on each side: its columns that differ, with both values. */
  columns?: Record<string, { faulted: string; twin: string }>;
}

/** The tables whose rows differ (as multisets), with a few of the differing rows. */
export function compareSnapshots(faulted: CycleSnapshot, twin: CycleSnapshot): SnapshotDifference[] {
  const differences: SnapshotDifference[] = [];
  for (const table of new Set([...Object.keys(faulted.tables), ...Object.keys(twin.tables)])) {
    const a = faulted.tables[table] ?? [];
    const b = twin.tables[table] ?? [];
    if (a.length === b.length && a.every((row, i) => row === b[i])) continue;
    const count = (rows: string[]) => {
      const m = new Map<string, number>();
      for (const r of rows) m.set(r, (m.get(r) ?? 0) + 1);
      return m;
    };
    const ca = count(a);
    const cb = count(b);
    const only = (x: Map<string, number>, y: Map<string, number>) =>
      [...x].filter(([r, n]) => n > (y.get(r) ?? 0)).map(([r]) => r.slice(0, 600));
    const onlyA = [...ca].filter(([r, n]) => n > (cb.get(r) ?? 0)).map(([r]) => r);
    const onlyB = [...cb].filter(([r, n]) => n > (ca.get(r) ?? 0)).map(([r]) => r);
    let columns: SnapshotDifference['columns'];
    if (onlyA.length === 1 && onlyB.length === 1) {
      const ra = JSON.parse(onlyA[0]!) as Record<string, unknown>;
      const rb = JSON.parse(onlyB[0]!) as Record<string, unknown>;
      columns = {};
      for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
        const va = JSON.stringify(ra[k]) ?? 'undefined';
        const vb = JSON.stringify(rb[k]) ?? 'undefined';
        if (va !== vb) columns[k] = { faulted: va.slice(0, 2000), twin: vb.slice(0, 2000) };
      }
    }
    differences.push({
      table,
      rowsFaulted: a.length,
      rowsTwin: b.length,
      onlyFaulted: only(ca, cb).slice(0, 3),
      onlyTwin: only(cb, ca).slice(0, 3),
      ...(columns ? { columns } : {}),
    });
  }
  return differences;
}
