import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';

/**
 * One trace's lineage as flat lists (what the trace viewer shows beside the trace), where
 * lineage-repository.ts builds the general graph: the prompt version that produced it, the
 * cycles that sampled it, the clusters it fell in (marking the latest cycle's), and the
 * dataset examples made from it with their versions. Each list is read by trace id through
 * an index (samples_trace_id, cluster_members_trace, dataset_examples_trace).
 */
export async function traceLineageRows(
  db: Db,
  trace: { id: string; agent: string; promptName: string | null; promptVersion: number | null },
) {
  const [promptVersion, samples, clusters, examples] = await Promise.all([
    trace.promptVersion === null
      ? Promise.resolve(undefined)
      : db
          .selectFrom('prompt_versions')
          .select(['id', 'name', 'version'])
          .where('agent_id', '=', trace.agent)
          // A trace that names no prompt ran the agent's own one, which is named after the agent.
          .where('name', '=', trace.promptName ?? trace.agent)
          .where('version', '=', trace.promptVersion)
          .executeTakeFirst(),
    db
      .selectFrom('samples')
      .innerJoin('cycles', 'cycles.id', 'samples.cycle_id')
      .select([
        'samples.cycle_id',
        'samples.reasons',
        'samples.reason',
        'cycles.started_at',
        'cycles.stage',
        'cycles.outcome',
      ])
      .where('samples.trace_id', '=', trace.id)
      .orderBy('cycles.started_at')
      .orderBy('cycles.id')
      .execute(),
    db
      .selectFrom('cluster_members')
      .innerJoin('clusters', 'clusters.id', 'cluster_members.cluster_id')
      .innerJoin('cycles', 'cycles.id', 'clusters.cycle_id')
      .select([
        'clusters.id',
        'clusters.stable_id',
        'clusters.cycle_id',
        'clusters.name',
        'clusters.category',
        'clusters.intervention',
        'cluster_members.noise',
        // Same order as the trace list's cluster filter: the newest cycle wins.
        sql<boolean>`row_number() over (order by cycles.started_at desc, cycles.id desc) = 1`.as('latest'),
      ])
      .where('cluster_members.trace_id', '=', trace.id)
      .orderBy('cycles.started_at')
      .orderBy('cycles.id')
      .execute(),
    db
      .selectFrom('dataset_examples')
      .innerJoin('dataset_versions', 'dataset_versions.id', 'dataset_examples.dataset_version_id')
      .innerJoin('datasets', 'datasets.id', 'dataset_versions.dataset_id')
      .select([
        'dataset_examples.id',
        'dataset_examples.dataset_version_id',
        'datasets.name',
        'dataset_versions.version',
        'dataset_examples.split',
        'dataset_examples.slices',
        'dataset_versions.published_at',
      ])
      .where('dataset_examples.trace_id', '=', trace.id)
      .orderBy('datasets.name')
      .orderBy('dataset_versions.version')
      .execute(),
  ]);
  return { promptVersion, samples, clusters, examples };
}
