import type { Db } from '../db/connection.js';
import { scoreConfigsFor, toScoreConfig } from './store/score-config-repository.js';
import { ScoreConfigInput, type ScoreConfig } from '../schemas/score-config.js';
import { formatIssues } from './annotation-service.js';
import { UserError } from '../cycles/cycle-service.js';

export const scoreConfigId = (agent: string | null, name: string) => `${agent ?? 'global'}:${name}`;

export async function listScoreConfigs(
  db: Db,
  options: { agent?: string; includeArchived?: boolean } = {},
): Promise<ScoreConfig[]> {
  return scoreConfigsFor(db, options.agent ?? null, { includeArchived: options.includeArchived ?? false });
}

/**
 * Creates a score config (agent-scoped or global). Queues created afterwards list it;
 * a name already used in the same scope, or by a global config, is refused.
 */
export async function createScoreConfig(db: Db, body: unknown): Promise<ScoreConfig> {
  const parsed = ScoreConfigInput.safeParse(body);
  if (!parsed.success) throw new UserError(`Invalid score config: ${formatIssues(parsed.error)}`);
  const c = parsed.data;
  if (c.agent) {
    const agent = await db.selectFrom('agents').select('id').where('id', '=', c.agent).executeTakeFirst();
    if (!agent) throw new UserError(`Unknown agent "${c.agent}"; omit agent for a global score config.`, 404);
  }
  const clash = await db
    .selectFrom('score_configs')
    .select(['id', 'agent_id', 'is_archived'])
    .where('name', '=', c.name)
    .where((eb) =>
      c.agent ? eb.or([eb('agent_id', '=', c.agent), eb('agent_id', 'is', null)]) : eb.val(true),
    )
    .executeTakeFirst();
  if (clash)
    throw new UserError(
      `A score config named "${c.name}" already exists (${clash.id}${clash.is_archived ? ', archived' : ''}); pick another name.`,
      409,
    );
  const row = await db
    .insertInto('score_configs')
    .values({
      id: scoreConfigId(c.agent, c.name),
      agent_id: c.agent,
      name: c.name,
      data_type: c.dataType,
      min_value: c.dataType === 'NUMERIC' ? (c.minValue ?? null) : null,
      max_value: c.dataType === 'NUMERIC' ? (c.maxValue ?? null) : null,
      categories: c.dataType === 'CATEGORICAL' ? JSON.stringify(c.categories) : null,
      description: c.description ?? null,
      is_archived: c.isArchived,
    })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new UserError(`A score config named "${c.name}" was just created by someone else.`, 409);
  return toScoreConfig(row);
}
