import { sql } from 'kysely';
import type { z } from 'zod';
import { AgentConfig } from '../../schemas/agent-config.js';
import {
  AttributionRules,
  describeRule,
  ruleArgument,
  sameRule,
  type AttributionRule,
} from '../../schemas/agent-attribution.js';
import { changedSections, patchSections, sameValue, type ConfigObject } from '../artifact-kinds.js';
import { formatIssues } from '../../schemas/format-issues.js';
import type { Db } from '../../db/connection.js';
import type { AgentRow } from '../../db/database.js';
import { ConflictError, NotFoundError, UserError } from '../../schemas/user-error.js';

/**
 * Agents and the versioned history of their configuration (agent_config_versions). Every
 * change goes through updateAgentConfig under the agent's row lock; reads take no lock.
 */

/** The agent's validated configuration. Unknown agent: NotFoundError. */
export async function agentConfig(db: Db, agent: string): Promise<AgentConfig> {
  const row = await db.selectFrom('agents').select('config').where('id', '=', agent).executeTakeFirst();
  if (!row) {
    throw new NotFoundError(
      `Unknown agent "${agent}". Register it first: flywheel agent create ${agent} (or POST /api/agents).`,
    );
  }
  return AgentConfig.parse(row.config);
}

/*
 * Plain reads, without the validation agentConfig applies: for callers that report an
 * unknown agent in their own words or must not fail on a configuration that no longer
 * validates.
 */

/** Every registered agent's id. */
export async function agentIds(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('agents').select('id').execute();
  return rows.map((a) => a.id);
}

/** Every registered agent's id and configuration as stored (not validated), in one read. */
export async function storedAgentConfigs(db: Db): Promise<{ id: string; config: AgentRow['config'] }[]> {
  return db.selectFrom('agents').select(['id', 'config']).orderBy('id').execute();
}

export async function agentExists(db: Db, agent: string): Promise<boolean> {
  const row = await db.selectFrom('agents').select('id').where('id', '=', agent).executeTakeFirst();
  return row !== undefined;
}

/** The agent's configuration as stored (not validated), or undefined for an unknown agent. */
export async function storedAgentConfig(db: Db, agent: string): Promise<AgentRow['config'] | undefined> {
  const row = await db.selectFrom('agents').select('config').where('id', '=', agent).executeTakeFirst();
  return row?.config;
}

export interface AgentConfigVersion {
  version: number;
  config: ConfigObject;
  createdBy: string;
  reason: string;
  createdAt: Date;
}

/**
 * A whole new configuration, top-level sections to replace (`null` removes one), or an edit
 * of the current configuration (with its defaults applied), computed under the row lock so
 * that concurrent edits of different keys both survive.
 */
export type ConfigChange =
  { config: unknown } | { patch: ConfigObject } | { edit: (current: ConfigObject) => ConfigObject };

export interface ConfigUpdate {
  /** False when the result equals the current configuration: no version was written. */
  changed: boolean;
  from: number;
  to: number;
  /** Top-level sections whose value changed. */
  sections: string[];
  config: AgentConfig;
}

/** Runs in the caller's transaction when there is one, else in a new one. */
export function inTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/** The configuration with its defaults applied when it validates, as stored otherwise. */
export function effectiveConfig(stored: ConfigObject): ConfigObject {
  const parsed = AgentConfig.safeParse(stored);
  return parsed.success ? parsed.data : stored;
}

/**
 * Locks the agent's row for the transaction and returns its current configuration; every
 * versioned artifact of the agent changes under this lock. Unknown agent: UserError.
 */
export async function lockAgent(tx: Db, agent: string): Promise<ConfigObject> {
  const row = await tx
    .selectFrom('agents')
    .select('config')
    .where('id', '=', agent)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new UserError(`Unknown agent "${agent}": nothing was changed. Check the agent id.`);
  return row.config;
}

/**
 * Makes the history end at the agent's actual configuration and returns the newest
 * version. Agents registered by trace ingest (or before versioning) get version 1 from
 * their configuration; a configuration written around this repository is recorded as a
 * version of its own rather than silently lost by the next change. Caller holds the lock.
 */
async function syncHistory(tx: Db, agent: string, current: ConfigObject): Promise<number> {
  const newest = await tx
    .selectFrom('agent_config_versions')
    .select(['version', 'config'])
    .where('agent_id', '=', agent)
    .orderBy('version', 'desc')
    .executeTakeFirst();
  if (newest && sameValue(newest.config, current)) return newest.version;
  const version = (newest?.version ?? 0) + 1;
  await tx
    .insertInto('agent_config_versions')
    .values({
      agent_id: agent,
      version,
      config: JSON.stringify(current),
      created_by: 'system',
      reason: newest
        ? 'configuration changed outside the versioned writer'
        : 'configuration before versioning',
    })
    .execute();
  return version;
}

async function writeVersion(
  tx: Db,
  agent: string,
  version: number,
  config: AgentConfig,
  actor: string,
  reason: string,
): Promise<void> {
  const json = JSON.stringify(config);
  await tx
    .insertInto('agent_config_versions')
    .values({ agent_id: agent, version, config: json, created_by: actor, reason })
    .execute();
  await tx.updateTable('agents').set({ config: json }).where('id', '=', agent).execute();
}

/**
 * The one writer of an agent's configuration: validates the result with AgentConfig and,
 * when it differs from the current one, stores it as a new immutable version and makes it
 * current, under the agent's row lock so concurrent changes get consecutive versions.
 * An invalid result throws a UserError naming the fields; nothing is written.
 */
export async function updateAgentConfig(
  db: Db,
  agent: string,
  change: ConfigChange,
  actor: string,
  reason: string,
): Promise<ConfigUpdate> {
  return inTransaction(db, async (tx) => {
    const current = await lockAgent(tx, agent);
    const from = await syncHistory(tx, agent, current);
    const raw =
      'config' in change
        ? change.config
        : 'patch' in change
          ? patchSections(current, change.patch)
          : change.edit(effectiveConfig(current));
    const parsed = AgentConfig.safeParse(raw);
    if (!parsed.success) {
      throw new UserError(
        `The configuration of ${agent} would not be valid, so nothing was changed: ${formatIssues(parsed.error, { root: '(top level)' })}`,
      );
    }
    const sections = changedSections(effectiveConfig(current), parsed.data);
    if (sections.length === 0) return { changed: false, from, to: from, sections, config: parsed.data };
    if (sections.includes('attribution')) await assertRulesFree(tx, agent, parsed.data.attribution);
    await writeVersion(tx, agent, from + 1, parsed.data, actor, reason);
    return { changed: true, from, to: from + 1, sections, config: parsed.data };
  });
}

/**
 * Registers an agent (version 1 of its configuration) or, given a configuration, sets it
 * through updateAgentConfig (a new version when it differs).
 */
export async function ensureAgent(
  db: Db,
  agent: string,
  config: z.input<typeof AgentConfig> | null = null,
  actor = 'system',
  reason = 'agent registered',
): Promise<void> {
  const initial = AgentConfig.parse(config ?? {});
  await inTransaction(db, async (tx) => {
    const inserted = await tx
      .insertInto('agents')
      .values({ id: agent, config: JSON.stringify(initial) })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) await writeVersion(tx, agent, 1, initial, actor, reason);
    else if (config) await updateAgentConfig(tx, agent, { config }, actor, reason);
  });
}

/** Every version of the agent's configuration, oldest first. */
export async function agentConfigVersions(db: Db, agent: string): Promise<AgentConfigVersion[]> {
  return inTransaction(db, async (tx) => {
    await syncHistory(tx, agent, await lockAgent(tx, agent));
    const rows = await tx
      .selectFrom('agent_config_versions')
      .selectAll()
      .where('agent_id', '=', agent)
      .orderBy('version')
      .execute();
    return rows.map((r) => ({
      version: r.version,
      config: r.config,
      createdBy: r.created_by,
      reason: r.reason,
      createdAt: r.created_at,
    }));
  });
}

/** An agent as people see it: the id, the names given to it and when it was registered. */
export interface AgentProfile {
  id: string;
  displayName: string;
  description: string;
  createdAt: Date;
  /** As stored, not validated. */
  config: ConfigObject;
}

const profileOf = (r: Pick<AgentRow, 'id' | 'display_name' | 'description' | 'created_at' | 'config'>) => ({
  id: r.id,
  displayName: r.display_name,
  description: r.description,
  createdAt: r.created_at,
  config: r.config,
});

/**
 * Registers a new agent with version 1 of its configuration (already validated by the
 * caller). False when the id is taken: nothing was written.
 */
export async function insertAgent(
  db: Db,
  agent: { id: string; displayName: string; description: string; config: AgentConfig },
  actor: string,
  reason: string,
): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const inserted = await tx
      .insertInto('agents')
      .values({
        id: agent.id,
        display_name: agent.displayName,
        description: agent.description,
        config: JSON.stringify(agent.config),
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) await writeVersion(tx, agent.id, 1, agent.config, actor, reason);
    return inserted !== undefined;
  });
}

/** Every agent's profile, by id. */
export async function agentProfiles(db: Db): Promise<AgentProfile[]> {
  const rows = await db
    .selectFrom('agents')
    .select(['id', 'display_name', 'description', 'created_at', 'config'])
    .orderBy('id')
    .execute();
  return rows.map(profileOf);
}

export async function agentProfile(db: Db, agent: string): Promise<AgentProfile | undefined> {
  const row = await db
    .selectFrom('agents')
    .select(['id', 'display_name', 'description', 'created_at', 'config'])
    .where('id', '=', agent)
    .executeTakeFirst();
  return row && profileOf(row);
}

/** The newest version of the agent's configuration history; null before its first change. */
export async function newestConfigVersion(db: Db, agent: string): Promise<number | null> {
  const row = await db
    .selectFrom('agent_config_versions')
    .select((eb) => eb.fn.max('version').as('version'))
    .where('agent_id', '=', agent)
    .executeTakeFirst();
  return row?.version ?? null;
}

/** Changes the names of an agent; the caller holds its lock (lockAgent). */
export async function setAgentProfile(
  tx: Db,
  agent: string,
  change: { displayName?: string | undefined; description?: string | undefined },
): Promise<void> {
  const set = {
    ...(change.displayName === undefined ? {} : { display_name: change.displayName }),
    ...(change.description === undefined ? {} : { description: change.description }),
  };
  if (Object.keys(set).length > 0) await tx.updateTable('agents').set(set).where('id', '=', agent).execute();
}

/**
 * Every agent's attribution rules, as stored. Agents without rules are left out; a stored
 * list that no longer validates is left out too, so it can never stop ingest (its agent's
 * `flywheel agent show` reports the configuration as invalid).
 */
export async function agentAttributionRules(
  db: Db,
): Promise<{ agent: string; rules: z.infer<typeof AttributionRules> }[]> {
  const rows = await db
    .selectFrom('agents')
    .select(['id', sql<unknown>`config->'attribution'`.as('attribution')])
    .where(
      sql<boolean>`jsonb_typeof(config->'attribution') = 'array' and config->'attribution' <> '[]'::jsonb`,
    )
    .orderBy('id')
    .execute();
  const out: { agent: string; rules: z.infer<typeof AttributionRules> }[] = [];
  for (const row of rows) {
    const parsed = AttributionRules.safeParse(row.attribution);
    if (parsed.success && parsed.data.length > 0) out.push({ agent: row.id, rules: parsed.data });
  }
  return out;
}

/**
 * Refuses a rule that another agent holds already: the same resource cannot be two agents'.
 * Overlapping rules (one a subset of the other) are allowed; ingest tells such spans apart
 * by the sending token, and names both agents when nothing does.
 */
export async function assertRulesFree(
  db: Db,
  agent: string,
  rules: readonly AttributionRule[],
): Promise<void> {
  if (rules.length === 0) return;
  for (const other of await agentAttributionRules(db)) {
    if (other.agent === agent) continue;
    const taken = rules.find((r) => other.rules.some((o) => sameRule(o, r)));
    if (taken)
      throw new ConflictError(
        `The attribution rule ${describeRule(taken)} belongs to agent "${other.agent}" already, so nothing was changed: remove it there first (flywheel agent set ${other.agent} --unmatch ${ruleArgument(taken)}) or make this rule more specific.`,
      );
  }
}
