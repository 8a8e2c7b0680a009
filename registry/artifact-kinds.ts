import { AgentConfig } from '../schemas/agent-config.js';

/**
 * The artifacts a cycle depends on, each versioned and each rolled back on its own: the
 * prompt (label moves in the prompt registry), a judge rubric (per dimension), the dataset
 * (the agent's active version), a policy (one section of the agent's configuration) and
 * the optimizer configuration (the `optimizer` section), and each coaching memory (its
 * version pointer).
 */
export const ARTIFACT_KINDS = ['prompt', 'rubric', 'dataset', 'policy', 'optimizer', 'coaching'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export const isArtifactKind = (text: string): text is ArtifactKind =>
  (ARTIFACT_KINDS as readonly string[]).includes(text);

/** Sections of the agent configuration that are not policies: tool definitions and the optimizer. */
const NOT_POLICIES: ReadonlySet<string> = new Set(['tools', 'optimizer']);

/**
 * Every other top-level section of the configuration is a policy that rolls back alone
 * (sampling, redaction, retentionDays, evaluation, annotation, gate, approval, ...).
 * Derived from the schema so a section added there is covered without a change here.
 */
export const POLICY_SECTIONS: readonly string[] = Object.keys(AgentConfig.shape).filter(
  (k) => !NOT_POLICIES.has(k),
);
export const OPTIMIZER_SECTION = 'optimizer';

/** A configuration as stored in one version. */
export type ConfigObject = Readonly<Record<string, unknown>>;

export interface VersionedConfig {
  version: number;
  config: ConfigObject;
}

/** JSON with object keys sorted, so equal values compare equal whatever order jsonb kept. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

export const sameValue = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/** The top-level sections whose value differs between two configurations. */
export function changedSections(before: ConfigObject, after: ConfigObject): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((k) => !sameValue(before[k], after[k]));
}

/**
 * The versions in which one section took a new value (the first version always counts),
 * oldest first: the section's own history inside the configuration's.
 */
export function sectionHistory(versions: readonly VersionedConfig[], section: string): VersionedConfig[] {
  const ordered = [...versions].sort((a, b) => a.version - b.version);
  return ordered.filter((v, i) => i === 0 || !sameValue(ordered[i - 1]!.config[section], v.config[section]));
}

/** A copy of `current` with one section taken from `earlier`; absent there means absent. */
export function withSectionFrom(current: ConfigObject, earlier: ConfigObject, section: string): ConfigObject {
  const { [section]: _dropped, ...rest } = current;
  return section in earlier ? { ...rest, [section]: earlier[section] } : rest;
}

/**
 * Applies a patch of top-level sections; a `null` value removes the section, so it falls
 * back to its default (no section of the configuration takes null as a value).
 */
export function patchSections(current: ConfigObject, patch: ConfigObject): ConfigObject {
  const next: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return next;
}

/** The version a rollback goes to when none is named: the newest one below the current. */
export function versionBefore(available: readonly number[], current: number): number | null {
  const below = available.filter((v) => v < current);
  return below.length === 0 ? null : Math.max(...below);
}

/**
 * One line saying how a section's value changed: `rate: 0.05 → 0.4` for the keys of an
 * object that differ, the whole value otherwise. For histories an operator reads.
 */
export function describeSectionChange(before: unknown, after: unknown, maxLength = 160): string {
  const short = (v: unknown) => (v === undefined ? '(default)' : canonicalJson(v));
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  const text =
    isObject(before) && isObject(after)
      ? changedSections(before, after)
          .map((k) => `${k}: ${short(before[k])} → ${short(after[k])}`)
          .join('; ')
      : `${short(before)} → ${short(after)}`;
  return text.length > maxLength ? `${text.slice(0, maxLength - 3)}...` : text;
}
