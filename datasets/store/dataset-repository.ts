import { sql } from 'kysely';
import type { DecontaminationReport } from '../dataset-decontamination.js';
import type { ExportedExample } from '../../schemas/dataset-example.js';
import type { Db } from '../../db/connection.js';
import type { DatasetExampleRow, DatasetSplit } from '../../db/database.js';
import { datasetIdOf, type DatasetRow } from './dataset-version-writer.js';
import { NotFoundError } from '../../schemas/user-error.js';

/**
 * Reads of datasets and their versions. Published versions are frozen by triggers, so
 * reading one needs no lock; a caller about to write a version from what it reads here
 * (its parent, this cycle's version) reads inside the transaction that holds the
 * dataset's lock (`lockDataset` in dataset-version-writer.ts), passing that transaction.
 */

/** What every view of a dataset version starts with. */
export interface VersionHeader {
  datasetVersionId: string;
  dataset: string;
  agent: string;
  version: number;
  parent: string | null;
  cycleId: string | null;
  createdBy: string;
  note: string;
  publishedAt: Date | null;
}

export interface VersionListing extends VersionHeader {
  createdAt: Date;
  train: number;
  eval: number;
  holdout: number;
}

export async function listVersions(db: Db, agent?: string): Promise<VersionListing[]> {
  let q = db
    .selectFrom('dataset_versions as v')
    .innerJoin('datasets as d', 'd.id', 'v.dataset_id')
    .select([
      'v.id',
      'd.name',
      'v.agent_id',
      'v.version',
      'v.parent_version_id',
      'v.cycle_id',
      'v.created_by',
      'v.note',
      'v.published_at',
      'v.created_at',
      sql<number>`(select count(*) from dataset_examples e where e.dataset_version_id = v.id and e.split = 'train')::int`.as(
        'train',
      ),
      sql<number>`(select count(*) from dataset_examples e where e.dataset_version_id = v.id and e.split = 'eval')::int`.as(
        'eval',
      ),
      sql<number>`(select count(*) from dataset_examples e where e.dataset_version_id = v.id and e.split = 'holdout')::int`.as(
        'holdout',
      ),
    ])
    .orderBy('v.agent_id')
    .orderBy('d.name')
    .orderBy('v.version');
  if (agent) q = q.where('v.agent_id', '=', agent);
  return (await q.execute()).map((r) => ({
    datasetVersionId: r.id,
    dataset: r.name,
    agent: r.agent_id,
    version: r.version,
    parent: r.parent_version_id,
    cycleId: r.cycle_id,
    createdBy: r.created_by,
    note: r.note,
    publishedAt: r.published_at,
    createdAt: r.created_at,
    train: r.train,
    eval: r.eval,
    holdout: r.holdout,
  }));
}

/** A version id, or a dataset (id, or `<agent>/<name>`, or an agent's default): its newest published version. */
export async function resolveVersion(db: Db, ref: string) {
  const exact = await db.selectFrom('dataset_versions').selectAll().where('id', '=', ref).executeTakeFirst();
  if (exact) return exact;
  const [agent, name] = ref.includes('/') ? ref.split('/', 2) : [ref, ref];
  const ids = [ref, datasetIdOf(agent!, name!)];
  const latest = await db
    .selectFrom('dataset_versions')
    .selectAll()
    .where('dataset_id', 'in', ids)
    .where('published_at', 'is not', null)
    .orderBy('version', 'desc')
    .executeTakeFirst();
  if (latest) return latest;
  throw new NotFoundError(
    `No dataset version "${ref}": pass a version id (see \`flywheel dataset list\`), a dataset id, or <agent>/<dataset name>.`,
  );
}

export interface VersionDetail extends VersionHeader {
  splits: Record<DatasetSplit, number>;
  slices: { slice: string; train: number; eval: number; holdout: number }[];
  decontamination: DecontaminationReport | Record<string, never>;
  excludedFromGating: number;
  retired: { key: string; exampleId: string; reason: string; retiredBy: string }[];
  lineage: {
    fromTraces: number;
    imported: number;
    annotated: number;
    clusters: number;
    byCycle: { cycleId: string | null; examples: number }[];
    runsTrainedOn: string[];
  };
}

export async function showVersion(db: Db, ref: string): Promise<VersionDetail> {
  const v = await resolveVersion(db, ref);
  const dataset = await db
    .selectFrom('datasets')
    .select('name')
    .where('id', '=', v.dataset_id)
    .executeTakeFirstOrThrow();
  const rows = await db
    .selectFrom('dataset_examples')
    .select([
      'split',
      'slices',
      'trace_id',
      'annotation_id',
      'cluster_stable_id',
      'cycle_id',
      'source',
      'gating_excluded',
    ])
    .where('dataset_version_id', '=', v.id)
    .execute();
  const splits: Record<DatasetSplit, number> = { train: 0, eval: 0, holdout: 0 };
  const slices = new Map<string, Record<DatasetSplit, number>>();
  const byCycle = new Map<string | null, number>();
  for (const r of rows) {
    splits[r.split] += 1;
    for (const s of r.slices.length > 0 ? r.slices : ['(none)']) {
      const c = slices.get(s) ?? { train: 0, eval: 0, holdout: 0 };
      c[r.split] += 1;
      slices.set(s, c);
    }
    byCycle.set(r.cycle_id, (byCycle.get(r.cycle_id) ?? 0) + 1);
  }
  const retired = await db
    .selectFrom('dataset_retirements')
    .selectAll()
    .where('dataset_version_id', '=', v.id)
    .orderBy('example_key')
    .execute();
  const runs = await db
    .selectFrom('optimization_run_examples')
    .select('run_id')
    .distinct()
    .where('dataset_version_id', '=', v.id)
    .orderBy('run_id')
    .execute();
  return {
    datasetVersionId: v.id,
    dataset: dataset.name,
    agent: v.agent_id,
    version: v.version,
    parent: v.parent_version_id,
    cycleId: v.cycle_id,
    createdBy: v.created_by,
    note: v.note,
    publishedAt: v.published_at,
    splits,
    slices: [...slices].sort(([a], [b]) => a.localeCompare(b)).map(([slice, c]) => ({ slice, ...c })),
    decontamination: v.decontamination as VersionDetail['decontamination'],
    excludedFromGating: rows.filter((r) => r.gating_excluded !== null).length,
    retired: retired.map((r) => ({
      key: r.example_key,
      exampleId: r.example_id,
      reason: r.reason,
      retiredBy: r.retired_by,
    })),
    lineage: {
      fromTraces: rows.filter((r) => r.trace_id !== null).length,
      imported: rows.filter((r) => r.source === 'import').length,
      annotated: rows.filter((r) => r.annotation_id !== null).length,
      clusters: new Set(rows.map((r) => r.cluster_stable_id).filter((c) => c !== null)).size,
      byCycle: [...byCycle]
        .sort(([a], [b]) => (a ?? '').localeCompare(b ?? ''))
        .map(([cycleId, examples]) => ({ cycleId, examples })),
      runsTrainedOn: runs.map((r) => r.run_id),
    },
  };
}

export interface VersionDiff {
  from: string;
  to: string;
  added: { key: string; split: DatasetSplit }[];
  removed: { key: string; split: DatasetSplit; reason: string | null }[];
  changed: { key: string; fields: string[] }[];
  splitMoves: { key: string; from: DatasetSplit; to: DatasetSplit; why: string | null }[];
  unchanged: number;
}

/** Examples matched by key: added, removed (with the retirement reason), changed content, split moves. */
export async function diffVersions(db: Db, fromRef: string, toRef: string): Promise<VersionDiff> {
  const [from, to] = await Promise.all([resolveVersion(db, fromRef), resolveVersion(db, toRef)]);
  const load = (id: string) =>
    db
      .selectFrom('dataset_examples')
      .select(['example_key', 'split', 'content_hash', 'slices', 'gating_excluded'])
      .where('dataset_version_id', '=', id)
      .orderBy('example_key')
      .execute();
  const [a, b] = await Promise.all([load(from.id), load(to.id)]);
  const retired = new Map(
    (
      await db
        .selectFrom('dataset_retirements')
        .select(['example_key', 'reason'])
        .where('dataset_version_id', '=', to.id)
        .execute()
    ).map((r) => [r.example_key, r.reason]),
  );
  const before = new Map(a.map((r) => [r.example_key, r]));
  const after = new Map(b.map((r) => [r.example_key, r]));
  const diff: VersionDiff = {
    from: from.id,
    to: to.id,
    added: [],
    removed: [],
    changed: [],
    splitMoves: [],
    unchanged: 0,
  };
  for (const [key, r] of after) {
    const old = before.get(key);
    if (!old) {
      diff.added.push({ key, split: r.split });
      continue;
    }
    const fields = [
      ...(old.content_hash !== r.content_hash ? ['content'] : []),
      ...(old.slices.join(',') !== r.slices.join(',') ? ['slices'] : []),
    ];
    if (fields.length > 0) diff.changed.push({ key, fields });
    if (old.split !== r.split)
      diff.splitMoves.push({ key, from: old.split, to: r.split, why: r.gating_excluded });
    if (fields.length === 0 && old.split === r.split) diff.unchanged += 1;
  }
  for (const [key, r] of before) {
    if (!after.has(key)) diff.removed.push({ key, split: r.split, reason: retired.get(key) ?? null });
  }
  return diff;
}

const exported = (r: DatasetExampleRow): ExportedExample => ({
  id: r.id,
  key: r.example_key,
  datasetVersionId: r.dataset_version_id,
  split: r.split,
  slices: r.slices,
  input: r.input,
  expected: r.expected,
  contentHash: r.content_hash,
  createdAt: r.created_at.toISOString(),
  createdBy: r.created_by,
  gatingExcluded: r.gating_excluded,
  lineage: {
    traceId: r.trace_id,
    clusterId: r.cluster_id,
    clusterStableId: r.cluster_stable_id,
    annotationId: r.annotation_id,
    cycleId: r.cycle_id,
    originVersionId: r.origin_version_id,
    source: r.source,
  },
});

/** Every example of a version with its lineage, in key order (one JSONL line each). */
export async function exportVersion(db: Db, ref: string): Promise<ExportedExample[]> {
  const v = await resolveVersion(db, ref);
  const rows = await db
    .selectFrom('dataset_examples')
    .selectAll()
    .where('dataset_version_id', '=', v.id)
    .orderBy('example_key')
    .execute();
  return rows.map(exported);
}

export interface ExamplePage {
  datasetVersionId: string;
  split: DatasetSplit | null;
  /** Examples of the version in `split` (every split when null), of which this page is a part. */
  total: number;
  offset: number;
  examples: ExportedExample[];
}

/** One page of a version's examples in key order, optionally of one split only. */
export async function versionExamples(
  db: Db,
  ref: string,
  page: { split: DatasetSplit | null; offset: number; limit: number },
): Promise<ExamplePage> {
  const v = await resolveVersion(db, ref);
  let q = db.selectFrom('dataset_examples').where('dataset_version_id', '=', v.id);
  if (page.split) q = q.where('split', '=', page.split);
  const [{ total }, rows] = await Promise.all([
    q.select(sql<number>`count(*)::int`.as('total')).executeTakeFirstOrThrow(),
    q.selectAll().orderBy('example_key').offset(page.offset).limit(page.limit).execute(),
  ]);
  return {
    datasetVersionId: v.id,
    split: page.split,
    total,
    offset: page.offset,
    examples: rows.map(exported),
  };
}

export async function findDataset(db: Db, datasetId: string): Promise<DatasetRow> {
  return db
    .selectFrom('datasets')
    .select(['id', 'agent_id', 'name', 'split_seed'])
    .where('id', '=', datasetId)
    .executeTakeFirstOrThrow();
}

/** The id of the dataset's newest published version, if it has one. */
export async function newestPublishedVersionId(db: Db, datasetId: string): Promise<string | undefined> {
  const newest = await db
    .selectFrom('dataset_versions')
    .select('id')
    .where('dataset_id', '=', datasetId)
    .where('published_at', 'is not', null)
    .orderBy('version', 'desc')
    .executeTakeFirst();
  return newest?.id;
}

/** The version a cycle built of the dataset, if it built one. */
export async function cycleVersionId(
  db: Db,
  datasetId: string,
  cycleId: string,
): Promise<string | undefined> {
  const existing = await db
    .selectFrom('dataset_versions')
    .select('id')
    .where('dataset_id', '=', datasetId)
    .where('cycle_id', '=', cycleId)
    .executeTakeFirst();
  return existing?.id;
}

/** How many examples of a version came from the cycle. */
export async function cycleExampleCount(db: Db, versionId: string, cycleId: string): Promise<number> {
  const fresh = await db
    .selectFrom('dataset_examples')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('dataset_version_id', '=', versionId)
    .where('cycle_id', '=', cycleId)
    .executeTakeFirstOrThrow();
  return fresh.n;
}

/** The split of each of the version's examples whose key is in `keys`. */
export async function exampleSplits(
  db: Db,
  versionId: string,
  keys: readonly string[],
): Promise<{ example_key: string; split: DatasetSplit }[]> {
  return db
    .selectFrom('dataset_examples')
    .select(['example_key', 'split'])
    .where('dataset_version_id', '=', versionId)
    .where('example_key', 'in', keys)
    .execute();
}

/**
 * The step the agent took on each example's trace, as the cycle that sampled it stored it
 * (the redacted copy a reviewer saw), keyed by example id. Imported examples and examples
 * whose sample is gone have none.
 */
export async function agentStepsOfExamples(db: Db, datasetVersionId: string): Promise<Map<string, unknown>> {
  const rows = await db
    .selectFrom('dataset_examples as ex')
    .innerJoin('samples as s', (j) =>
      j.onRef('s.cycle_id', '=', 'ex.cycle_id').onRef('s.trace_id', '=', 'ex.trace_id'),
    )
    .select(['ex.id', sql<unknown>`s.redacted -> 'output'`.as('output')])
    .where('ex.dataset_version_id', '=', datasetVersionId)
    .execute();
  return new Map(rows.map((r) => [r.id, r.output]));
}
