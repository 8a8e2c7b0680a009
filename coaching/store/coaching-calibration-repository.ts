import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';

/**
 * The agent's recent conversations a new coaching's threshold is calibrated against
 * (coaching/threshold-calibration.ts): the messages of its newest traces, read-only.
 */

/** The input messages of the agent's newest traces, at most `limit`, leaving out `exceptTraceId`. */
export async function recentTraceMessages(
  db: Db,
  agent: string,
  options: { limit: number; exceptTraceId?: string | null },
): Promise<unknown[]> {
  let q = db
    .selectFrom('traces')
    .select(sql<unknown>`traces.input -> 'messages'`.as('messages'))
    .where('traces.agent_id', '=', agent);
  if (options.exceptTraceId) q = q.where('traces.id', '!=', options.exceptTraceId);
  const rows = await q
    .orderBy('traces.started_at', 'desc')
    .orderBy('traces.id', 'desc')
    .limit(options.limit)
    .execute();
  return rows.map((r) => r.messages);
}
