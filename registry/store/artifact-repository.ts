import { sql } from 'kysely';
import {
  sameValue,
  sectionHistory,
  versionBefore,
  withSectionFrom,
  type VersionedConfig,
} from '../artifact-kinds.js';
import {
  agentConfigVersions,
  effectiveConfig,
  inTransaction,
  lockAgent,
  updateAgentConfig,
  type ConfigUpdate,
} from './agent-repository.js';
import type { Db } from '../../db/connection.js';
import { datasetIdOf } from '../../datasets/store/dataset-version-writer.js';
import { UserError } from '../../schemas/user-error.js';

/**
 * Versioned artifacts that are not prompts or rubrics: sections of the agent's
 * configuration (policies and the optimizer) and the agent's active dataset version, plus
 * the audit record every change writes.
 */

export interface DatasetVersionRef {
  id: string;
  version: number;
  cycleId: string | null;
  createdAt: Date;
}

export interface ActiveDatasetVersion extends DatasetVersionRef {
  /** True while a rollback holds the agent on this version (no newer version since). */
  pinned: boolean;
}

/**
 * The published versions of the dataset the agent's cycles build and gate with (its
 * default dataset), oldest first; `excludingCycle` leaves that cycle's own version out.
 * A version still being built is not published, so it is never active nor a target.
 */
export async function datasetVersions(
  db: Db,
  agent: string,
  options: { excludingCycle?: string } = {},
): Promise<DatasetVersionRef[]> {
  let q = db
    .selectFrom('dataset_versions')
    .select(['id', 'version', 'cycle_id', 'created_at'])
    .where('agent_id', '=', agent)
    .where('dataset_id', '=', datasetIdOf(agent, agent))
    .where('published_at', 'is not', null);
  if (options.excludingCycle !== undefined) {
    const cycle = options.excludingCycle;
    q = q.where((eb) => eb.or([eb('cycle_id', 'is', null), eb('cycle_id', '!=', cycle)]));
  }
  const rows = await q.orderBy('version').execute();
  return rows.map((r) => ({ id: r.id, version: r.version, cycleId: r.cycle_id, createdAt: r.created_at }));
}

/**
 * The dataset version the agent's next cycle builds on and gates with: the one a rollback
 * pointed at, until a newer version than any that existed at the rollback is made; else
 * the newest. Null when the agent has no dataset yet. The dataset builder passes its own
 * cycle as `excludingCycle`, so a retried build finds the same base as the first attempt.
 */
export async function activeDatasetVersion(
  db: Db,
  agent: string,
  options: { excludingCycle?: string } = {},
): Promise<ActiveDatasetVersion | null> {
  const versions = await datasetVersions(db, agent, options);
  const newest = versions.at(-1);
  const pointer = await db
    .selectFrom('dataset_pointers')
    .select(['dataset_version_id', 'pinned_over'])
    .where('agent_id', '=', agent)
    .executeTakeFirst();
  if (pointer && (!newest || newest.version <= pointer.pinned_over)) {
    const pinned = versions.find((v) => v.id === pointer.dataset_version_id);
    if (pinned) return { ...pinned, pinned: true };
  }
  return newest ? { ...newest, pinned: false } : null;
}

export interface DatasetMove {
  from: DatasetVersionRef;
  to: DatasetVersionRef;
}

/**
 * Points the agent at one of its dataset versions (by number; default: the newest one
 * below the active version). Errors change nothing: no dataset, no such version, nothing
 * earlier, already active.
 */
export async function pinDatasetVersion(
  db: Db,
  agent: string,
  to: number | undefined,
  actor: string,
  reason: string,
): Promise<DatasetMove> {
  return inTransaction(db, async (tx) => {
    await lockAgent(tx, agent);
    const versions = await datasetVersions(tx, agent);
    const active = await activeDatasetVersion(tx, agent);
    if (!active) throw new UserError(`Agent ${agent} has no dataset version yet; nothing was changed.`);
    const numbers = versions.map((v) => v.version);
    const target = to ?? versionBefore(numbers, active.version);
    if (target === null) {
      throw new UserError(
        `The dataset of ${agent} has no version before ${active.version} to roll back to; nothing was changed.`,
      );
    }
    const chosen = versions.find((v) => v.version === target);
    if (!chosen) {
      throw new UserError(
        `The dataset of ${agent} has no version ${target}; nothing was changed. Versions: ${numbers.join(', ')}.`,
      );
    }
    if (chosen.id === active.id) {
      throw new UserError(`The dataset of ${agent} is already at version ${target}; nothing was changed.`);
    }
    const pinnedOver = Math.max(...numbers);
    await tx
      .insertInto('dataset_pointers')
      .values({
        agent_id: agent,
        dataset_version_id: chosen.id,
        version: chosen.version,
        pinned_over: pinnedOver,
        updated_by: actor,
        reason,
      })
      .onConflict((oc) =>
        oc.column('agent_id').doUpdateSet({
          dataset_version_id: chosen.id,
          version: chosen.version,
          pinned_over: pinnedOver,
          updated_by: actor,
          reason,
          updated_at: sql<Date>`now()`,
        }),
      )
      .execute();
    const { pinned: _pinned, ...from } = active;
    return { from, to: chosen };
  });
}

export interface SectionVersions {
  section: string;
  /** The configuration version that gave the section its current value. */
  current: number;
  /** The configuration versions in which the section took a new value, oldest first. */
  history: VersionedConfig[];
  /** All configuration versions, with defaults applied, oldest first. */
  versions: VersionedConfig[];
}

/** One section's history inside the agent's configuration history. */
export async function sectionVersions(db: Db, agent: string, section: string): Promise<SectionVersions> {
  const versions = (await agentConfigVersions(db, agent)).map((v) => ({
    version: v.version,
    config: effectiveConfig(v.config),
  }));
  const history = sectionHistory(versions, section);
  return { section, current: history.at(-1)!.version, history, versions };
}

export interface SectionRestore {
  section: string;
  /** The configuration version whose section value is replaced, and the one restored. */
  from: number;
  to: number;
  update: ConfigUpdate;
}

/**
 * Restores one section of the agent's configuration as it was in configuration version
 * `to` (default: the value it had before its current one) into a new version, leaving
 * every other section as it is now. The result is validated before it is written.
 */
export async function restoreConfigSection(
  db: Db,
  agent: string,
  section: string,
  to: number | undefined,
  actor: string,
  reason: string,
): Promise<SectionRestore> {
  return inTransaction(db, async (tx) => {
    await lockAgent(tx, agent);
    const { current, history, versions } = await sectionVersions(tx, agent, section);
    const target =
      to ??
      versionBefore(
        history.map((v) => v.version),
        current,
      );
    if (target === null) {
      throw new UserError(
        `Section ${section} of ${agent} has had one value since configuration version ${current}; there is no earlier one to roll back to, so nothing was changed.`,
      );
    }
    const earlier = versions.find((v) => v.version === target);
    if (!earlier) {
      throw new UserError(
        `Agent ${agent} has no configuration version ${target}; nothing was changed. Versions: 1 to ${versions.at(-1)!.version}.`,
      );
    }
    const now = versions.at(-1)!.config;
    if (sameValue(earlier.config[section], now[section])) {
      throw new UserError(
        `Section ${section} of ${agent} is already as in configuration version ${target}; nothing was changed.`,
      );
    }
    const update = await updateAgentConfig(
      tx,
      agent,
      { config: withSectionFrom(now, earlier.config, section) },
      actor,
      reason,
    );
    return { section, from: current, to: target, update };
  });
}

/** Records who changed which artifact from what to what and why; returns the row's id and time. */
export async function auditArtifactChange(
  db: Db,
  entry: { actor: string; action: string; artifact: string; detail: Record<string, unknown> },
): Promise<{ auditId: string; at: string }> {
  const row = await db
    .insertInto('audit_log')
    .values({ ...entry, detail: JSON.stringify(entry.detail) })
    .returning(['id', 'created_at'])
    .executeTakeFirstOrThrow();
  return { auditId: String(row.id), at: new Date(row.created_at).toISOString() };
}
