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
 * evaluation's verdict counts: one aggregate over the window's online scores (the partial
 * index on agent and time), joined, rather than two lookups per trace.
 */
export async function driftTraceRows(db: Db, agent: string, from: Date, to: Date): Promise<DriftTraceRow[]> {
  const online = db
    .selectFrom('scores')
    .select((eb) => [
      'scores.trace_id',
      eb.fn.countAll<string>().as('n'),
      sql<string>`count(*) filter (where scores.label = 'fail')`.as('failed'),
    ])
    .where('scores.cycle_id', 'is', null)
    .where('scores.agent_id', '=', agent)
    .where('scores.trace_started_at', '>=', from)
    .where('scores.trace_started_at', '<', to)
    .groupBy('scores.trace_id')
    .as('online');
  const rows = await db
    .selectFrom('traces')
    .leftJoin(online, 'online.trace_id', 'traces.id')
    .select([
      'traces.id',
      'traces.started_at',
      'traces.attributes',
      'traces.feedback',
      'traces.outcome',
      'traces.status',
      'traces.latency_ms',
      'traces.cost_usd',
      'online.n',
      'online.failed',
    ])
    .where('traces.agent_id', '=', agent)
    .where('traces.started_at', '>=', from)
    .where('traces.started_at', '<', to)
    .orderBy('traces.started_at')
    .orderBy('traces.id')
    .execute();
  return rows.map(({ n, failed, ...r }) => ({
    ...r,
    online_scores: Number(n ?? 0),
    online_failures: Number(failed ?? 0),
  }));
}

/** The inputs of some of the agent's traces started in [from, to) (those still to embed). */
export async function traceInputs(
  db: Db,
  agent: string,
  ids: readonly string[],
  from: Date,
  to: Date,
): Promise<{ id: string; input: unknown }[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('traces')
    .select(['id', 'input'])
    .where('agent_id', '=', agent)
    .where('started_at', '>=', from)
    .where('started_at', '<', to)
    .where('id', 'in', [...ids])
    .execute();
}

/** The stored input embeddings (unit vectors) of the agent's traces started in [from, to), by `model`. */
export async function storedInputEmbeddings(
  db: Db,
  agent: string,
  model: string,
  from: Date,
  to: Date,
): Promise<Map<string, number[]>> {
  const rows = await db
    .selectFrom('drift_input_embeddings')
    .select(['trace_id', 'embedding'])
    .where('agent_id', '=', agent)
    .where('model', '=', model)
    .where('trace_started_at', '>=', from)
    .where('trace_started_at', '<', to)
    .execute();
  return new Map(rows.map((r) => [r.trace_id, r.embedding]));
}

/** Stores input embeddings once: a retried check keeps the first. */
export async function saveInputEmbeddings(
  db: Db,
  rows: { agent_id: string; trace_id: string; trace_started_at: Date; model: string; embedding: number[] }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('drift_input_embeddings')
    .values(rows)
    .onConflict((oc) => oc.columns(['agent_id', 'trace_id', 'model']).doNothing())
    .execute();
}

/** Drops the embeddings of traces that have left the agent's windows for good. */
export async function dropInputEmbeddingsBefore(db: Db, agent: string, before: Date): Promise<number> {
  const result = await db
    .deleteFrom('drift_input_embeddings')
    .where('agent_id', '=', agent)
    .where('trace_started_at', '<', before)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
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
