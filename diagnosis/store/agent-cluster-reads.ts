import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';

/**
 * The clusters of the agent's newest `cycles` cycles that clustered failures: newest cycle
 * first, the largest cluster of a cycle first. Read-only, over clusters and cycles.
 */
export async function recentClustersOfAgent(db: Db, agent: string, cycles: number) {
  return db
    .with('recent', (qb) =>
      qb
        .selectFrom('cycles')
        .select(['id', 'started_at'])
        .where('agent_id', '=', agent)
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('clusters')
              .select(sql`1`.as('one'))
              .whereRef('clusters.cycle_id', '=', 'cycles.id'),
          ),
        )
        .orderBy('started_at', 'desc')
        .orderBy('id')
        .limit(cycles),
    )
    .selectFrom('clusters')
    .innerJoin('recent', 'recent.id', 'clusters.cycle_id')
    .select([
      'clusters.id',
      'clusters.stable_id',
      'clusters.name',
      'clusters.category',
      'clusters.intervention',
      'clusters.size',
      'clusters.cycle_id',
      'recent.started_at',
    ])
    .orderBy('recent.started_at', 'desc')
    .orderBy('clusters.cycle_id')
    .orderBy('clusters.size', 'desc')
    .orderBy('clusters.id')
    .execute();
}
