import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';
import type { ClusterMemberRow, ClusterRow, NewCluster, NewClusterMember } from '../../db/database.js';

/**
 * Failure clusters of a cycle and their members. A cluster and its members are written in
 * one transaction, so a reader never sees a cluster without its members; writing a cluster
 * again (a retried diagnosis) replaces its row and keeps the members already stored.
 * Clusters never change once their cycle's diagnosis is done, so the reads need no locks.
 */

export async function saveCluster(
  db: Db,
  cluster: NewCluster,
  members: Omit<NewClusterMember, 'cluster_id'>[],
): Promise<void> {
  const { id, ...row } = cluster;
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('clusters')
      .values({ id, ...row })
      .onConflict((oc) => oc.column('id').doUpdateSet(row))
      .execute();
    await tx
      .insertInto('cluster_members')
      .values(members.map((m) => ({ cluster_id: id, ...m })))
      .onConflict((oc) => oc.columns(['cluster_id', 'trace_id']).doNothing())
      .execute();
  });
}

/** The stable ids of the agent's clusters in every cycle but `exceptCycle`. */
export async function clusterStableIds(
  db: Db,
  agent: string,
  exceptCycle: string,
): Promise<Pick<ClusterRow, 'stable_id'>[]> {
  return db
    .selectFrom('clusters')
    .select('stable_id')
    .where('agent_id', '=', agent)
    .where('cycle_id', '!=', exceptCycle)
    .execute();
}

/** The most recently started cycle, other than `exceptCycle`, with clusters of the agent. */
export async function lastClusteredCycle(
  db: Db,
  agent: string,
  exceptCycle: string,
): Promise<string | undefined> {
  const last = await db
    .selectFrom('clusters')
    .innerJoin('cycles', 'cycles.id', 'clusters.cycle_id')
    .select('clusters.cycle_id')
    .where('clusters.agent_id', '=', agent)
    .where('clusters.cycle_id', '!=', exceptCycle)
    .orderBy('cycles.started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return last?.cycle_id;
}

/** The cycle's clusters that have a stable id. */
export async function stableClusters(
  db: Db,
  cycleId: string,
): Promise<Pick<ClusterRow, 'id' | 'stable_id' | 'centroid' | 'embedder'>[]> {
  return db
    .selectFrom('clusters')
    .select(['id', 'stable_id', 'centroid', 'embedder'])
    .where('cycle_id', '=', cycleId)
    .where('stable_id', 'is not', null)
    .execute();
}

export async function clusterMembers(
  db: Db,
  clusterIds: string[],
): Promise<Pick<ClusterMemberRow, 'cluster_id' | 'trace_id'>[]> {
  return db
    .selectFrom('cluster_members')
    .select(['cluster_id', 'trace_id'])
    .where('cluster_id', 'in', clusterIds)
    .execute();
}

/** The members of a cycle's clusters: largest cluster first, then by cluster id and trace id. */
export async function clusterMembersBySize(db: Db, cycleId: string) {
  return db
    .selectFrom('cluster_members')
    .innerJoin('clusters', 'clusters.id', 'cluster_members.cluster_id')
    .select(['cluster_members.trace_id', 'clusters.id as cluster_id', 'clusters.size'])
    .where('clusters.cycle_id', '=', cycleId)
    .orderBy('clusters.size', 'desc')
    .orderBy('clusters.id')
    .orderBy('cluster_members.trace_id')
    .execute();
}

/** A cycle's clusters with their diagnosis and how many core and noise members each has. */
export async function clusterSummaries(db: Db, cycleId: string) {
  return db
    .selectFrom('clusters')
    .leftJoin('cluster_members', 'cluster_members.cluster_id', 'clusters.id')
    .select([
      'clusters.id',
      'clusters.stable_id',
      'clusters.name',
      'clusters.category',
      'clusters.previous_id',
      'clusters.diagnosis',
      'clusters.diagnosis_error',
      'clusters.intervention',
      'clusters.embedder',
      (eb) =>
        eb.fn
          .count<string>('cluster_members.trace_id')
          .filterWhere('cluster_members.noise', '=', false)
          .as('core'),
      (eb) =>
        eb.fn
          .count<string>('cluster_members.trace_id')
          .filterWhere('cluster_members.noise', '=', true)
          .as('noise'),
    ])
    .where('clusters.cycle_id', '=', cycleId)
    .groupBy('clusters.id')
    .execute();
}

/** Which of the cluster ids `ids` exist. */
export async function existingClusterIds(db: Db, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('clusters').select('id').where('id', 'in', ids).execute();
  return rows.map((c) => c.id);
}

/**
 * The members of a cycle's clusters of at most `maxSize` traces, with each trace's messages
 * as the cycle sampled them (PII-redacted) and the latest review item of this cycle whose
 * label corrected its step, if any: what the coaching recommendation reads.
 */
export async function smallClusterMembers(db: Db, cycleId: string, maxSize: number) {
  return db
    .selectFrom('cluster_members')
    .innerJoin('clusters', 'clusters.id', 'cluster_members.cluster_id')
    .leftJoin('samples', (j) =>
      j
        .onRef('samples.cycle_id', '=', 'clusters.cycle_id')
        .onRef('samples.trace_id', '=', 'cluster_members.trace_id'),
    )
    .select([
      'clusters.id as cluster_id',
      'cluster_members.trace_id',
      sql<unknown>`samples.redacted -> 'input' -> 'messages'`.as('messages'),
      sql<string | null>`(
        select i.id from annotation_items i join annotations a on a.item_id = i.id
        where i.cycle_id = clusters.cycle_id and i.trace_id = cluster_members.trace_id and a.expected is not null
        order by a.created_at desc, a.id desc limit 1
      )`.as('corrected_item_id'),
    ])
    .where('clusters.cycle_id', '=', cycleId)
    .where('clusters.size', '<=', maxSize)
    .orderBy('clusters.id')
    .orderBy('cluster_members.trace_id')
    .execute();
}
