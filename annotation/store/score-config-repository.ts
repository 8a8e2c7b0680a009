import type { Selectable } from 'kysely';
import type { ScoreConfig } from '../../schemas/score-config.js';
import type { Db } from '../../db/connection.js';
import type { ScoreConfigsTable } from '../../db/database.js';

/**
 * score_configs: what reviewers score besides the verdict, per agent or global. Names are
 * unique per scope (the table's key is `<agent or global>:<name>`); a create that loses a
 * race inserts nothing instead of failing.
 */

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

/** A config named `name` in the agent's scope or the global one (any config, for a global name). */
export async function findScoreConfigNamed(
  db: Db,
  name: string,
  agent: string | null,
): Promise<{ id: string; isArchived: boolean } | undefined> {
  const clash = await db
    .selectFrom('score_configs')
    .select(['id', 'agent_id', 'is_archived'])
    .where('name', '=', name)
    .where((eb) => (agent ? eb.or([eb('agent_id', '=', agent), eb('agent_id', 'is', null)]) : eb.val(true)))
    .executeTakeFirst();
  return clash && { id: clash.id, isArchived: clash.is_archived };
}

/** Stores a new config; undefined when a row with its id already exists. */
export async function insertScoreConfig(db: Db, config: ScoreConfig): Promise<ScoreConfig | undefined> {
  const row = await db
    .insertInto('score_configs')
    .values({
      id: config.id,
      agent_id: config.agent,
      name: config.name,
      data_type: config.dataType,
      min_value: config.minValue,
      max_value: config.maxValue,
      categories: config.categories === null ? null : JSON.stringify(config.categories),
      description: config.description,
      is_archived: config.isArchived,
    })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  return row && toScoreConfig(row);
}
