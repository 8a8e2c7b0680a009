import { parseDatasetJsonl, type LineError } from './dataset-jsonl.js';
import { deriveSlices } from './example-slices.js';
import { AgentConfig } from '../schemas/agent-config.js';
import type { Db } from '../db/connection.js';
import { existingClusterIds } from '../diagnosis/store/cluster-repository.js';
import { storedAgentConfig } from '../registry/store/agent-repository.js';
import {
  exampleSplits,
  findDataset,
  newestPublishedVersionId,
  resolveVersion,
} from './store/dataset-repository.js';
import {
  carriedExamples,
  ensureDataset,
  lockDataset,
  writeVersion,
  type DraftExample,
  type Retirement,
  type VersionSummary,
} from './store/dataset-version-writer.js';
import { UserError } from '../schemas/user-error.js';

async function policyOf(db: Db, agent: string) {
  const config = await storedAgentConfig(db, agent);
  if (config === undefined)
    throw new UserError(
      `Unknown agent "${agent}": register it first (flywheel dev seeds "demo"; ingesting traces creates agents).`,
    );
  return AgentConfig.parse(config).dataset;
}

export interface ImportResult {
  version: VersionSummary | null;
  imported: number;
  /** Lines skipped, with their numbers and what was wrong; the other lines are kept. */
  errors: LineError[];
  /** Keys whose split was kept from an earlier version although the file named another. */
  keptSplit: string[];
}

/**
 * Imports a JSONL file as a new version of a dataset (copy-on-write from its newest
 * version; a line whose key is already present replaces that example and keeps its split).
 * Lineage the file names is kept; cluster and annotation references that do not exist
 * here are dropped (their stable id and trace id stay).
 */
export async function importExamples(
  db: Db,
  args: { agent: string; dataset?: string; text: string; createdBy: string; note?: string },
): Promise<ImportResult> {
  const policy = await policyOf(db, args.agent);
  const { examples, errors } = parseDatasetJsonl(args.text);
  if (examples.length === 0) return { version: null, imported: 0, errors, keptSplit: [] };
  return db.transaction().execute(async (tx) => {
    const dataset = await ensureDataset(tx, {
      agent: args.agent,
      ...(args.dataset ? { name: args.dataset } : {}),
    });
    await lockDataset(tx, dataset.id);
    const parentId = await newestPublishedVersionId(tx, dataset.id);
    const carried = parentId ? await carriedExamples(tx, parentId) : [];
    const previousSplit = new Map(carried.map((c) => [c.key, c]));
    const clusterIds = examples.flatMap((e) => (e.lineage.clusterId ? [e.lineage.clusterId] : []));
    const knownClusters = new Set(await existingClusterIds(tx, clusterIds));
    const keys = new Set(examples.map((e) => e.key));
    const keptSplit: string[] = [];
    const drafts: DraftExample[] = examples.map((e) => {
      const before = previousSplit.get(e.key);
      if (before && e.split) keptSplit.push(e.key);
      return {
        key: e.key,
        traceId: e.traceId,
        clusterId: e.lineage.clusterId && knownClusters.has(e.lineage.clusterId) ? e.lineage.clusterId : null,
        clusterStableId: e.lineage.clusterStableId,
        annotationId: null,
        cycleId: e.lineage.cycleId,
        input: e.input,
        expected: e.expected,
        slices: deriveSlices({ extra: e.slices }),
        source: 'import',
        createdBy: args.createdBy,
        createdAt: null,
        originVersionId: null,
        gatingExcluded: null,
        requestedSplit: e.split,
      };
    });
    const version = await writeVersion(tx, {
      dataset,
      parentVersionId: parentId ?? null,
      cycleId: null,
      createdBy: args.createdBy,
      note: args.note ?? `imported ${drafts.length} example(s)`,
      examples: [...carried.filter((c) => !keys.has(c.key)), ...drafts],
      retirements: [],
      policy,
    });
    // The split check runs against every version of the dataset, not just the parent.
    const final = await exampleSplits(tx, version.datasetVersionId, [...keys]);
    for (const f of final) {
      const wanted = examples.find((e) => e.key === f.example_key)?.split;
      if (wanted && wanted !== f.split && !keptSplit.includes(f.example_key)) keptSplit.push(f.example_key);
    }
    return { version, imported: drafts.length, errors, keptSplit: keptSplit.sort() };
  });
}

/** The agent a dataset or version reference belongs to: what a change to it is authorized for. */
export async function datasetAgent(db: Db, ref: string): Promise<string> {
  return (await resolveVersion(db, ref)).agent_id;
}

export interface RetireRequest {
  /** A version id or a dataset reference (its newest version is the parent). */
  ref: string;
  exampleIds?: readonly string[];
  olderThanDays?: number;
  clusterStableId?: string;
  createdBy: string;
  now: Date;
}

/**
 * Retires examples in a new version: the parent and everything gated on it stay intact;
 * the child lacks the retired examples and records each one with its reason.
 */
export async function retireExamples(
  db: Db,
  req: RetireRequest,
): Promise<{ version: VersionSummary; retired: Retirement[] }> {
  const base = await resolveVersion(db, req.ref);
  if (!base.published_at)
    throw new UserError(`Version ${base.id} is not published yet; retire from a published version.`);
  if (!req.exampleIds?.length && req.olderThanDays === undefined && !req.clusterStableId)
    throw new UserError('Say what to retire: --example ID..., --older-than DAYS or --cluster STABLE_ID.');
  if (req.olderThanDays !== undefined && !(req.olderThanDays >= 0))
    throw new UserError(`--older-than must be a number of days ≥ 0, got ${req.olderThanDays}.`);
  const policy = await policyOf(db, base.agent_id);
  return db.transaction().execute(async (tx) => {
    const dataset = await findDataset(tx, base.dataset_id);
    await lockDataset(tx, dataset.id);
    const carried = await carriedExamples(tx, base.id);
    const idOf = (key: string) => `${base.id}:${key}`;
    const wanted = new Set(req.exampleIds ?? []);
    const unknown = [...wanted].filter((w) => !carried.some((c) => c.key === w || idOf(c.key) === w));
    if (unknown.length > 0)
      throw new UserError(
        `Not in ${base.id}: ${unknown.join(', ')}. Pass example ids or keys from \`flywheel dataset export ${base.id}\`.`,
      );
    const cutoff =
      req.olderThanDays === undefined ? null : new Date(req.now.getTime() - req.olderThanDays * 86_400_000);
    const retirements: Retirement[] = [];
    for (const c of carried) {
      let reason: string | null = null;
      if (wanted.has(c.key) || wanted.has(idOf(c.key))) reason = 'retired by request';
      else if (cutoff && c.createdAt && c.createdAt < cutoff)
        reason = `stale: created ${c.createdAt.toISOString()}, older than ${req.olderThanDays} day(s)`;
      else if (req.clusterStableId && c.clusterStableId === req.clusterStableId)
        reason = `cluster ${req.clusterStableId} retired`;
      if (reason) retirements.push({ key: c.key, exampleId: idOf(c.key), reason });
    }
    if (retirements.length === 0)
      throw new UserError(`Nothing in ${base.id} matches; no version was created.`);
    const gone = new Set(retirements.map((r) => r.key));
    const version = await writeVersion(tx, {
      dataset,
      parentVersionId: base.id,
      cycleId: null,
      createdBy: req.createdBy,
      note: `retired ${retirements.length} example(s)`,
      examples: carried.filter((c) => !gone.has(c.key)),
      retirements,
      policy,
    });
    return { version, retired: retirements };
  });
}

// Reads the API and the CLI show as the store returns them.
export {
  diffVersions,
  exportVersion,
  listVersions,
  showVersion,
  versionExamples,
} from './store/dataset-repository.js';
