import type { Db } from '../db/connection.js';
import { agentExists } from '../registry/store/agent-repository.js';
import { findScoreConfigNamed, insertScoreConfig, scoreConfigsFor } from './store/score-config-repository.js';
import { ScoreConfigInput, type ScoreConfig } from '../schemas/score-config.js';
import { formatIssues } from '../schemas/format-issues.js';
import { ConflictError, NotFoundError, UserError } from '../schemas/user-error.js';

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
  if (c.agent && !(await agentExists(db, c.agent)))
    throw new NotFoundError(`Unknown agent "${c.agent}"; omit agent for a global score config.`);
  const clash = await findScoreConfigNamed(db, c.name, c.agent);
  if (clash)
    throw new ConflictError(
      `A score config named "${c.name}" already exists (${clash.id}${clash.isArchived ? ', archived' : ''}); pick another name.`,
    );
  const created = await insertScoreConfig(db, {
    id: scoreConfigId(c.agent, c.name),
    agent: c.agent,
    name: c.name,
    dataType: c.dataType,
    minValue: c.dataType === 'NUMERIC' ? (c.minValue ?? null) : null,
    maxValue: c.dataType === 'NUMERIC' ? (c.maxValue ?? null) : null,
    categories: c.dataType === 'CATEGORICAL' ? (c.categories ?? null) : null,
    description: c.description ?? null,
    isArchived: c.isArchived,
  });
  if (!created) throw new ConflictError(`A score config named "${c.name}" was just created by someone else.`);
  return created;
}
