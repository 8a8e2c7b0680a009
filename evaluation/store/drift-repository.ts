import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';
import type { DriftAlertRow, DriftStateRow, NewDriftAlert } from '../../db/database.js';
import type { DriftTraceRow } from '../drift/drift-observation.js';

/** The drift check's reads and writes: per-agent detector state, alerts, and the watched traces. */

export async function driftState(db: Db, agent: string): Promise<DriftStateRow | undefined> {
  return db.selectFrom('drift_states').selectAll().where('agent_id', '=', agent).executeTakeFirst();
}

export async function saveDriftState(
  db: Db,
  row: {
    agent_id: string;
    epoch_start: Date;
    prototypes: number[][] | null;
    last_check_at: Date;
    last_check: Record<string, unknown>;
  },
): Promise<void> {
  const values = {
    ...row,
    prototypes: row.prototypes === null ? null : JSON.stringify(row.prototypes),
    last_check: JSON.stringify(row.last_check),
  };
  await db
    .insertInto('drift_states')
    .values(values)
    .onConflict((oc) =>
      oc.column('agent_id').doUpdateSet({
        epoch_start: values.epoch_start,
        prototypes: values.prototypes,
        last_check_at: values.last_check_at,
        last_check: values.last_check,
      }),
    )
    .execute();
}

/** When the agent's first trace started (the first epoch's start); undefined without traces. */
export async function firstTraceAt(db: Db, agent: string): Promise<Date | undefined> {
  const row = await db
    .selectFrom('traces')
    .select('started_at')
    .where('agent_id', '=', agent)
    .orderBy('started_at')
    .limit(1)
    .executeTakeFirst();
  return row?.started_at;
}

/**
 * The agent's traces started in [from, to) with what the detector reads, and online
 * evaluation's verdict counts (through the partial index on online scores).
 */
export async function driftTraceRows(
  db: Db,
  agent: string,
  from: Date,
  to: Date,
): Promise<(DriftTraceRow & { input: unknown })[]> {
  const rows = await db
    .selectFrom('traces')
    .select([
      'traces.id',
      'traces.started_at',
      'traces.attributes',
      'traces.feedback',
      'traces.outcome',
      'traces.status',
      'traces.latency_ms',
      'traces.cost_usd',
      'traces.input',
      sql<string>`(select count(*) from scores s where s.trace_id = traces.id and s.cycle_id is null)`.as(
        'online_scores',
      ),
      sql<string>`(select count(*) from scores s where s.trace_id = traces.id and s.cycle_id is null and s.label = 'fail')`.as(
        'online_failures',
      ),
    ])
    .where('traces.agent_id', '=', agent)
    .where('traces.started_at', '>=', from)
    .where('traces.started_at', '<', to)
    .orderBy('traces.started_at')
    .orderBy('traces.id')
    .execute();
  return rows.map((r) => ({
    ...r,
    online_scores: Number(r.online_scores),
    online_failures: Number(r.online_failures),
  }));
}

export async function driftAlert(db: Db, id: string): Promise<DriftAlertRow | undefined> {
  return db.selectFrom('drift_alerts').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Stores an alert once: a retried check keeps the first. */
export async function insertDriftAlert(db: Db, alert: NewDriftAlert): Promise<void> {
  await db
    .insertInto('drift_alerts')
    .values(alert)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export async function markDriftAlertNotified(db: Db, id: string): Promise<void> {
  await db.updateTable('drift_alerts').set({ notified: true }).where('id', '=', id).execute();
}

/** The agent's alerts, newest first. */
export async function driftAlerts(db: Db, agent: string, limit: number): Promise<DriftAlertRow[]> {
  return db
    .selectFrom('drift_alerts')
    .selectAll()
    .where('agent_id', '=', agent)
    .orderBy('at', 'desc')
    .limit(limit)
    .execute();
}

/** The traces the drift alert that started `cycleId` asks it to sample at 100 %; [] for other cycles. */
export async function driftedTracesOfCycle(db: Db, cycleId: string): Promise<string[]> {
  const row = await db
    .selectFrom('drift_alerts')
    .select('drifted_trace_ids')
    .where('cycle_id', '=', cycleId)
    .executeTakeFirst();
  return row?.drifted_trace_ids ?? [];
}
