import type { Db } from '../db/connection.js';
import { changedSections, describeSectionChange } from './artifact-kinds.js';
import { NotFoundError } from '../schemas/user-error.js';
import { agentConfigVersions, agentProfile, effectiveConfig } from './store/agent-repository.js';

/** One version of an agent's whole configuration and what it changed from the one before. */
export interface ConfigHistoryEntry {
  version: number;
  current: boolean;
  createdBy: string;
  reason: string;
  createdAt: string;
  /**
   * The top-level sections whose effective value changed from the previous version, each
   * with one line saying how (`rate: 0.05 → 0.4`); empty for the first version.
   */
  changes: { section: string; change: string }[];
  /** The configuration as it was written (defaults not filled in). */
  config: Record<string, unknown>;
}

/**
 * Every version of the agent's whole configuration, oldest first, the newest current: the
 * history the per-section histories (policy sections, optimizer) are cut from. Changes are
 * compared on the effective configuration, so a version that only spelled out a default
 * lists no change.
 */
export async function configHistory(db: Db, agent: string): Promise<ConfigHistoryEntry[]> {
  if (!(await agentProfile(db, agent)))
    throw new NotFoundError(`No agent "${agent}"; \`flywheel agent list\` shows the agents.`);
  const versions = await agentConfigVersions(db, agent);
  const effective = versions.map((v) => effectiveConfig(v.config));
  const newest = versions.at(-1)?.version;
  return versions.map((v, i) => {
    const before = i === 0 ? null : effective[i - 1]!;
    const after = effective[i]!;
    return {
      version: v.version,
      current: v.version === newest,
      createdBy: v.createdBy,
      reason: v.reason,
      createdAt: new Date(v.createdAt).toISOString(),
      changes: before
        ? changedSections(before, after).map((section) => ({
            section,
            change: describeSectionChange(before[section], after[section], 400),
          }))
        : [],
      config: { ...v.config },
    };
  });
}
