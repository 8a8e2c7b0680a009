import { sql, type Kysely, type Transaction } from 'kysely';
import {
  decontaminate,
  exampleText,
  type DecontaminationReport,
  type OptimizerUse,
} from '../dataset-decontamination.js';
import { assignSplits, type Split } from '../dataset-split.js';
import type { DatasetPolicy } from '../../schemas/dataset-policy.js';
import type { Database } from '../../db/database.js';
import { UserError } from '../../schemas/user-error.js';

/**
 * Every write to datasets, dataset_versions, dataset_examples, dataset_retirements and
 * optimization_run_examples. A version is written and published in one transaction that
 * holds the dataset's advisory lock (`lockDataset`), so two writers never number or split
 * the same dataset at once; once `published_at` is set, triggers freeze the version and its
 * examples. Run-example records are idempotent inserts.
 */

type Tx = Transaction<Database> | Kysely<Database>;

/** The agent's default dataset is named after the agent; its versions are `<agent>-dataset-v<N>`. */
export const datasetIdOf = (agent: string, name: string) =>
  name === agent ? `${agent}-dataset` : `${agent}-dataset-${name}`;
export const exampleIdOf = (versionId: string, key: string) => `${versionId}:${key}`;

export interface DatasetRow {
  id: string;
  agent_id: string;
  name: string;
  split_seed: number;
}

export async function ensureDataset(
  tx: Tx,
  args: { agent: string; name?: string; description?: string; seed?: number },
): Promise<DatasetRow> {
  const name = args.name ?? args.agent;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name))
    throw new UserError(
      `Dataset name "${name}" is not valid: use letters, digits, ".", "_" or "-" (at most 64 characters).`,
    );
  await tx
    .insertInto('datasets')
    .values({
      id: datasetIdOf(args.agent, name),
      agent_id: args.agent,
      name,
      description: args.description ?? (name === args.agent ? `Default dataset of ${args.agent}` : ''),
      split_seed: args.seed ?? 0,
    })
    .onConflict((oc) => oc.columns(['agent_id', 'name']).doNothing())
    .execute();
  return tx
    .selectFrom('datasets')
    .select(['id', 'agent_id', 'name', 'split_seed'])
    .where('agent_id', '=', args.agent)
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
}

/** One example as it will be written into a new version. */
export interface DraftExample {
  key: string;
  traceId: string | null;
  clusterId: string | null;
  clusterStableId: string | null;
  annotationId: string | null;
  cycleId: string | null;
  input: unknown;
  expected: unknown;
  slices: string[];
  source: string;
  createdBy: string;
  /** Carried examples keep their first creation time and version; new ones get now. */
  createdAt: Date | null;
  originVersionId: string | null;
  gatingExcluded: string | null;
  /** A split the caller insists on for a key never split before (an import's `split`). */
  requestedSplit: Split | null;
}

export interface Retirement {
  key: string;
  exampleId: string;
  reason: string;
}

export interface VersionSummary {
  datasetVersionId: string;
  datasetId: string;
  version: number;
  train: number;
  eval: number;
  holdout: number;
  decontamination: { movedFromGating: number; nearDuplicates: number };
}

/** What earlier optimization runs of the agent trained on (by example key and content). */
async function optimizerUse(tx: Tx, agent: string): Promise<OptimizerUse> {
  const rows = await tx
    .selectFrom('optimization_run_examples as u')
    .innerJoin('optimization_runs as r', 'r.id', 'u.run_id')
    .innerJoin('cycles as c', 'c.id', 'r.cycle_id')
    .select(['u.run_id', 'u.example_key', 'u.content_hash'])
    .where('c.agent_id', '=', agent)
    .execute();
  const byKey = new Map<string, string[]>();
  const byContent = new Map<string, string[]>();
  for (const r of rows) {
    byKey.set(r.example_key, [...new Set([...(byKey.get(r.example_key) ?? []), r.run_id])]);
    byContent.set(r.content_hash, [...new Set([...(byContent.get(r.content_hash) ?? []), r.run_id])]);
  }
  return { byKey, byContent, runs: new Set(rows.map((r) => r.run_id)).size };
}

/** The split each key had in the newest published version of the dataset that held it. */
async function stickySplits(tx: Tx, datasetId: string): Promise<Map<string, Split>> {
  const rows = await tx
    .selectFrom('dataset_examples as e')
    .innerJoin('dataset_versions as v', 'v.id', 'e.dataset_version_id')
    .distinctOn('e.example_key')
    .select(['e.example_key', 'e.split'])
    .where('v.dataset_id', '=', datasetId)
    .where('v.published_at', 'is not', null)
    .orderBy('e.example_key')
    .orderBy('v.version', 'desc')
    .execute();
  return new Map(rows.map((r) => [r.example_key, r.split]));
}

export async function lockDataset(tx: Tx, datasetId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${'dataset:' + datasetId}))`.execute(tx);
}

export async function nextVersionNumber(tx: Tx, datasetId: string): Promise<number> {
  const row = await tx
    .selectFrom('dataset_versions')
    .select(sql<number>`coalesce(max(version), 0)::int`.as('v'))
    .where('dataset_id', '=', datasetId)
    .executeTakeFirstOrThrow();
  return row.v + 1;
}

/**
 * Writes and publishes a new version: splits (sticky, else stratified by cluster), the
 * examples, the retirements, then decontamination against every optimization run of the
 * agent, and finally `published_at`, after which the triggers freeze it all. Call inside a
 * transaction holding the dataset's lock (`lockDataset`).
 */
export async function writeVersion(
  tx: Tx,
  args: {
    dataset: DatasetRow;
    parentVersionId: string | null;
    cycleId: string | null;
    createdBy: string;
    note: string;
    examples: readonly DraftExample[];
    retirements: readonly Retirement[];
    policy: DatasetPolicy;
  },
): Promise<VersionSummary> {
  const { dataset, policy } = args;
  const version = await nextVersionNumber(tx, dataset.id);
  const versionId = `${dataset.id}-v${version}`;
  await tx
    .insertInto('dataset_versions')
    .values({
      id: versionId,
      agent_id: dataset.agent_id,
      dataset_id: dataset.id,
      version,
      cycle_id: args.cycleId,
      parent_version_id: args.parentVersionId,
      created_by: args.createdBy,
      note: args.note,
    })
    .execute();

  const sticky = await stickySplits(tx, dataset.id);
  for (const e of args.examples)
    if (!sticky.has(e.key) && e.requestedSplit) sticky.set(e.key, e.requestedSplit);
  const splits = assignSplits(
    args.examples.map((e) => ({ key: e.key, group: e.clusterStableId })),
    { ...policy, seed: dataset.split_seed, sticky },
  );
  const rows = args.examples.map((e) => ({
    id: exampleIdOf(versionId, e.key),
    dataset_version_id: versionId,
    example_key: e.key,
    trace_id: e.traceId,
    cluster_id: e.clusterId,
    cluster_stable_id: e.clusterStableId,
    annotation_id: e.annotationId,
    cycle_id: e.cycleId,
    split: splits.get(e.key)!,
    slices: e.slices,
    input: JSON.stringify(e.input),
    expected: JSON.stringify(e.expected),
    source: e.source,
    created_by: e.createdBy,
    ...(e.createdAt ? { created_at: e.createdAt } : {}),
    origin_version_id: e.originVersionId ?? versionId,
    gating_excluded: e.gatingExcluded,
  }));
  for (let i = 0; i < rows.length; i += 500) {
    await tx
      .insertInto('dataset_examples')
      .values(rows.slice(i, i + 500))
      .execute();
  }
  if (args.retirements.length > 0) {
    await tx
      .insertInto('dataset_retirements')
      .values(
        args.retirements.map((r) => ({
          dataset_version_id: versionId,
          example_key: r.key,
          example_id: r.exampleId,
          reason: r.reason,
          retired_by: args.createdBy,
        })),
      )
      .execute();
  }

  // The content hash is computed by Postgres, so decontamination reads the rows back.
  const written = await tx
    .selectFrom('dataset_examples')
    .select(['example_key', 'split', 'input', 'content_hash'])
    .where('dataset_version_id', '=', versionId)
    .execute();
  const { splits: final, report } = decontaminate(
    written.map((w) => ({
      key: w.example_key,
      split: w.split,
      text: exampleText(w.input),
      contentHash: w.content_hash,
    })),
    await optimizerUse(tx, dataset.agent_id),
    { threshold: policy.nearDuplicateThreshold },
  );
  for (const move of report.movedFromGating) {
    await tx
      .updateTable('dataset_examples')
      .set({
        split: move.to,
        gating_excluded:
          move.reason === 'used_by_optimizer'
            ? `used by optimization run(s) ${move.detail}`
            : `near-duplicate of ${move.detail}`,
      })
      .where('id', '=', exampleIdOf(versionId, move.key))
      .execute();
  }
  for (const pair of report.nearDuplicates) {
    if (!pair.moved || final.get(pair.moved) === 'train') continue;
    await tx
      .updateTable('dataset_examples')
      .set({ split: final.get(pair.moved)! })
      .where('id', '=', exampleIdOf(versionId, pair.moved))
      .execute();
  }
  await tx
    .updateTable('dataset_versions')
    .set({ decontamination: JSON.stringify(report), published_at: sql<Date>`now()` })
    .where('id', '=', versionId)
    .execute();
  return summarize(tx, versionId, report);
}

export async function summarize(
  tx: Tx,
  versionId: string,
  stored?: DecontaminationReport,
): Promise<VersionSummary> {
  const v = await tx
    .selectFrom('dataset_versions')
    .select(['id', 'dataset_id', 'version', 'decontamination'])
    .where('id', '=', versionId)
    .executeTakeFirstOrThrow();
  const counts = await tx
    .selectFrom('dataset_examples')
    .select(['split', sql<number>`count(*)::int`.as('n')])
    .where('dataset_version_id', '=', versionId)
    .groupBy('split')
    .execute();
  const n = (s: Split) => counts.find((c) => c.split === s)?.n ?? 0;
  const report = stored ?? (v.decontamination as Partial<DecontaminationReport>);
  return {
    datasetVersionId: v.id,
    datasetId: v.dataset_id,
    version: v.version,
    train: n('train'),
    eval: n('eval'),
    holdout: n('holdout'),
    decontamination: {
      movedFromGating: report.movedFromGating?.length ?? 0,
      nearDuplicates: report.nearDuplicates?.length ?? 0,
    },
  };
}

/** Drafts that carry a published version's examples into its child unchanged. */
export async function carriedExamples(tx: Tx, versionId: string): Promise<DraftExample[]> {
  const rows = await tx
    .selectFrom('dataset_examples')
    .selectAll()
    .where('dataset_version_id', '=', versionId)
    .orderBy('example_key')
    .execute();
  return rows.map((r) => ({
    key: r.example_key,
    traceId: r.trace_id,
    clusterId: r.cluster_id,
    clusterStableId: r.cluster_stable_id,
    annotationId: r.annotation_id,
    cycleId: r.cycle_id,
    input: r.input,
    expected: r.expected,
    slices: r.slices,
    source: r.source,
    createdBy: r.created_by,
    createdAt: r.created_at,
    originVersionId: r.origin_version_id,
    gatingExcluded: r.gating_excluded,
    requestedSplit: null,
  }));
}

/**
 * Records which examples an optimization run trains on, so later versions can keep them
 * out of the gating splits. Idempotent (a retried activity records the same rows).
 */
export async function recordRunExamples(tx: Tx, runId: string, exampleIds: readonly string[]): Promise<void> {
  for (let i = 0; i < exampleIds.length; i += 1000) {
    const batch = exampleIds.slice(i, i + 1000);
    await tx
      .insertInto('optimization_run_examples')
      .columns(['run_id', 'example_id', 'dataset_version_id', 'example_key', 'content_hash'])
      .expression(
        tx
          .selectFrom('dataset_examples')
          .select([
            sql<string>`${runId}::text`.as('run_id'),
            'id',
            'dataset_version_id',
            'example_key',
            'content_hash',
          ])
          .where('id', 'in', batch),
      )
      .onConflict((oc) => oc.columns(['run_id', 'example_id']).doNothing())
      .execute();
  }
}
