import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';

/**
 * Per-agent retention inside a daily partition that other agents still keep. Rows go in
 * batches, each its own short statement, so a large purge never holds a long lock against
 * ingest or the weekly sample, and a run cut short resumes where it was (it only deletes
 * what is still older than the cutoff). A partition dropped meanwhile has nothing to delete.
 */

export const PURGE_BATCH = 5_000;

const isUndefinedTable = (error: unknown) => (error as { code?: string }).code === '42P01';

/** Deletes the agent's traces started before `before` from one partition; returns how many. */
export async function deleteAgentTraces(
  db: Db,
  partition: string,
  agent: string,
  before: Date,
  onBatch: (deleted: number) => void = () => undefined,
  batch = PURGE_BATCH,
): Promise<number> {
  let total = 0;
  for (;;) {
    let deleted: number;
    try {
      // ctid: a leaf partition is a plain table, so its rows can be picked by physical id and
      // the batch is bounded without a sort.
      const result = await sql`
        delete from ${sql.id(partition)}
        where ctid = any(array(
          select ctid from ${sql.id(partition)}
          where agent_id = ${agent} and started_at < ${before}
          limit ${batch}))`.execute(db);
      deleted = Number(result.numAffectedRows ?? 0);
    } catch (error) {
      if (isUndefinedTable(error)) return total;
      throw error;
    }
    total += deleted;
    if (deleted > 0) onBatch(deleted);
    if (deleted < batch) return total;
  }
}

/** How many of the agent's traces a purge of the partition would delete (for a dry run). */
export async function countAgentTraces(
  db: Db,
  partition: string,
  agent: string,
  before: Date,
): Promise<number> {
  try {
    const rows = await sql<{ n: number }>`
      select count(*)::int as n from ${sql.id(partition)}
      where agent_id = ${agent} and started_at < ${before}`.execute(db);
    return rows.rows[0]?.n ?? 0;
  } catch (error) {
    if (isUndefinedTable(error)) return 0;
    throw error;
  }
}

/** How many traces a partition holds, by agent (for a dry run of a drop). */
export async function countPartitionTraces(db: Db, partition: string): Promise<Map<string, number>> {
  try {
    const rows = await sql<{ agent_id: string; n: number }>`
      select agent_id, count(*)::int as n from ${sql.id(partition)} group by agent_id`.execute(db);
    return new Map(rows.rows.map((r) => [r.agent_id, r.n]));
  } catch (error) {
    if (isUndefinedTable(error)) return new Map();
    throw error;
  }
}
