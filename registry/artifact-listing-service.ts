import {
  ARTIFACT_KINDS,
  canonicalJson,
  describeSectionChange,
  isArtifactKind,
  OPTIMIZER_SECTION,
  POLICY_SECTIONS,
  sectionHistory,
} from './artifact-kinds.js';
import { agentConfigVersions, effectiveConfig } from './store/agent-repository.js';
import { activeDatasetVersion, datasetVersions, sectionVersions } from './store/artifact-repository.js';
import type { Db } from '../db/connection.js';
import { labelsByVersion, listPrompts, promptVersionHistory } from './store/prompt-repository.js';
import { rubricHistory } from '../evaluation/store/rubric-repository.js';
import { coachingVersions, currentCoaching } from '../coaching/store/coaching-repository.js';
import { AgentConfig } from '../schemas/agent-config.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';

/** Where one artifact of an agent stands: its current version and what points at it. */
export interface ArtifactSummary {
  kind: 'config' | (typeof ARTIFACT_KINDS)[number];
  /** Section, dimension or prompt name; null for the dataset, the optimizer and the whole config. */
  name: string | null;
  current: number | null;
  newest: number | null;
  /** How the current version is chosen, e.g. `label production`, `pinned by rollback`, `built-in`. */
  pointer: string;
}

export interface HistoryEntry {
  version: number;
  current: boolean;
  createdBy: string | null;
  reason: string | null;
  createdAt: string | null;
  /** One line about the version: labels, the section's value, the rubric's question. */
  summary: string;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const brief = (value: unknown) => {
  const text = value === undefined ? '(default)' : canonicalJson(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
};

/** Every artifact kind of the agent with its current version and pointer. */
export async function listArtifacts(db: Db, agent: string): Promise<ArtifactSummary[]> {
  const configs = await agentConfigVersions(db, agent);
  const newestConfig = configs.at(-1)!.version;
  const out: ArtifactSummary[] = [
    { kind: 'config', name: null, current: newestConfig, newest: newestConfig, pointer: 'newest version' },
  ];
  for (const p of await listPrompts(db, agent)) {
    const production = p.labels.production ?? null;
    const others = Object.entries(p.labels)
      .filter(([l]) => l !== 'production')
      .map(([l, v]) => `${l}→v${v}`);
    out.push({
      kind: 'prompt',
      name: p.name,
      current: production,
      newest: p.latest,
      pointer: ['label production', ...others].join(', '),
    });
  }
  const config = AgentConfig.parse(configs.at(-1)!.config);
  for (const dimension of config.evaluation.judge.dimensions) {
    const h = await rubricHistory(db, agent, dimension);
    out.push({
      kind: 'rubric',
      name: dimension,
      current: h.active,
      newest: Math.max(...h.versions.map((v) => v.version)),
      pointer: h.builtIn ? 'built-in' : 'active pointer',
    });
  }
  const active = await activeDatasetVersion(db, agent);
  const datasets = await datasetVersions(db, agent);
  out.push({
    kind: 'dataset',
    name: null,
    current: active?.version ?? null,
    newest: datasets.at(-1)?.version ?? null,
    pointer: !active ? 'no dataset yet' : active.pinned ? 'pinned by rollback' : 'newest version',
  });
  for (const c of await currentCoaching(db, agent)) {
    out.push({
      kind: 'coaching',
      name: c.id,
      current: c.version,
      newest: Math.max(c.version, ...(await coachingVersions(db, c.id)).map((v) => v.version)),
      pointer: c.current.status === 'active' ? 'version pointer (active)' : 'version pointer (retired)',
    });
  }
  const effective = configs.map((v) => ({ version: v.version, config: effectiveConfig(v.config) }));
  for (const section of [...POLICY_SECTIONS, OPTIMIZER_SECTION]) {
    const current = sectionHistory(effective, section).at(-1)!.version;
    out.push({
      kind: section === OPTIMIZER_SECTION ? 'optimizer' : 'policy',
      name: section === OPTIMIZER_SECTION ? null : section,
      current,
      newest: current,
      pointer: `value since config v${current}`,
    });
  }
  return out;
}

/** The versions of one artifact, oldest first, the current one marked. */
export async function artifactHistory(
  db: Db,
  agent: string,
  kind: string,
  name?: string,
): Promise<HistoryEntry[]> {
  if (!isArtifactKind(kind))
    throw new UserError(`Unknown artifact kind "${kind}"; use one of ${ARTIFACT_KINDS.join(', ')}.`);
  switch (kind) {
    case 'prompt':
      return promptHistory(db, agent, name ?? agent);
    case 'rubric': {
      if (name === undefined) throw new UserError('Name the rubric dimension.');
      const h = await rubricHistory(db, agent, name);
      return h.versions.map((v) => ({
        version: v.version,
        current: v.version === h.active,
        createdBy: v.createdBy,
        reason: v.reason,
        createdAt: iso(v.createdAt),
        summary: `${v.rubric.scale}: ${v.rubric.question}`,
      }));
    }
    case 'dataset': {
      const active = await activeDatasetVersion(db, agent);
      return (await datasetVersions(db, agent)).map((v) => ({
        version: v.version,
        current: v.id === active?.id,
        createdBy: null,
        reason: null,
        createdAt: iso(v.createdAt),
        summary: `${v.id}${v.cycleId ? ` from ${v.cycleId}` : ''}`,
      }));
    }
    case 'coaching': {
      if (name === undefined) throw new UserError('Name the coaching (its id, coa_…).');
      const [current] = await currentCoaching(db, agent, { id: name });
      if (!current) throw new NotFoundError(`Agent ${agent} has no coaching ${name}.`);
      return (await coachingVersions(db, name)).map((v) => ({
        version: v.version,
        current: v.version === current.version,
        createdBy: v.createdBy,
        reason: v.reason,
        createdAt: iso(v.createdAt),
        summary: `${v.status}: ${v.situation}`.slice(0, 160),
      }));
    }
    case 'policy':
    case 'optimizer': {
      const section = kind === 'optimizer' ? OPTIMIZER_SECTION : name;
      if (section === undefined || (kind === 'policy' && !POLICY_SECTIONS.includes(section)))
        throw new UserError(`Name a policy section: one of ${POLICY_SECTIONS.join(', ')}.`);
      const s = await sectionVersions(db, agent, section);
      const meta = new Map((await agentConfigVersions(db, agent)).map((v) => [v.version, v]));
      return s.history.map((v, i) => ({
        version: v.version,
        current: v.version === s.current,
        createdBy: meta.get(v.version)?.createdBy ?? null,
        reason: meta.get(v.version)?.reason ?? null,
        createdAt: iso(meta.get(v.version)?.createdAt ?? null),
        summary:
          i === 0
            ? brief(v.config[section])
            : describeSectionChange(s.history[i - 1]!.config[section], v.config[section]),
      }));
    }
  }
}

async function promptHistory(db: Db, agent: string, name: string): Promise<HistoryEntry[]> {
  const rows = await promptVersionHistory(db, agent, name);
  if (rows.length === 0) throw new NotFoundError(`Agent ${agent} has no prompt named "${name}".`);
  const labels = await labelsByVersion(db, name);
  return rows.map((r) => {
    const on = labels.get(r.id) ?? [];
    return {
      version: r.version,
      current: on.includes('production'),
      createdBy: r.created_by,
      reason: r.commit_message,
      createdAt: iso(r.created_at),
      summary: on.length > 0 ? `labels: ${on.join(', ')}` : '',
    };
  });
}

// Version histories the CLI prints as they are stored.
export { agentConfigVersions } from './store/agent-repository.js';
export { rubricHistory } from '../evaluation/store/rubric-repository.js';
