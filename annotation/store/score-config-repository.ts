import type { Selectable } from 'kysely';
import type { ScoreConfig } from '../../schemas/score-config.js';
import type { Db } from '../../db/connection.js';
import type { ScoreConfigsTable } from '../../db/database.js';

export function toScoreConfig(row: Selectable<ScoreConfigsTable>): ScoreConfig {
  return {
    id: row.id,
    agent: row.agent_id,
    name: row.name,
    dataType: row.data_type,
    minValue: row.min_value,
    maxValue: row.max_value,
    categories: row.categories,
    description: row.description,
    isArchived: row.is_archived,
  };
}

/** The score configs an agent's queues list: its own and the global ones, by name. */
export async function scoreConfigsFor(
  db: Db,
  agent: string | null,
  options: { includeArchived?: boolean } = {},
): Promise<ScoreConfig[]> {
  let query = db
    .selectFrom('score_configs')
    .selectAll()
    .where((eb) => (agent ? eb.or([eb('agent_id', '=', agent), eb('agent_id', 'is', null)]) : eb.val(true)))
    .orderBy('name')
    .orderBy('id');
  if (!options.includeArchived) query = query.where('is_archived', '=', false);
  return (await query.execute()).map(toScoreConfig);
}

export async function scoreConfigsByIds(db: Db, ids: readonly string[]): Promise<ScoreConfig[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('score_configs')
    .selectAll()
    .where('id', 'in', ids)
    .orderBy('name')
    .execute();
  return rows.map(toScoreConfig);
}
