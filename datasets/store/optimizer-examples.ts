import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';

/**
 * Dataset examples as prompt search and the gate read them. A split is listed in example
 * ID order, so it is the same sequence on every read and a retried evaluation lines its
 * scores up with the same examples.
 */

/** Train example IDs of a dataset version, in a stable order. */
export async function trainExampleIds(db: Db, datasetVersionId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('dataset_examples')
    .select('id')
    .where('dataset_version_id', '=', datasetVersionId)
    .where('split', '=', 'train')
    .orderBy(sql`id`)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Train examples of a dataset version with the failure cluster each was sampled from (the
 * strata GEPA's Pareto subsample keeps represented), in the same order as trainExampleIds.
 */
export function trainExampleClusters(db: Db, datasetVersionId: string) {
  return db
    .selectFrom('dataset_examples')
    .select(['id', 'cluster_id'])
    .where('dataset_version_id', '=', datasetVersionId)
    .where('split', '=', 'train')
    .orderBy(sql`id`)
    .execute();
}

/** The examples of one split of a dataset version with their slice tags, by ID. */
export function splitExamples(db: Db, datasetVersionId: string, split: 'train' | 'eval' | 'holdout') {
  return db
    .selectFrom('dataset_examples')
    .select(['id', 'slices'])
    .where('dataset_version_id', '=', datasetVersionId)
    .where('split', '=', split)
    .orderBy('id')
    .execute();
}

/**
 * Examples with what was said about their trace: the reviewer's comment (through the
 * annotation) and the judge's explanations of the dimensions it failed. The judge writes
 * one score per dimension, so its failing ones are joined (one row per example, whichever
 * dimension passed); they come from this cycle's judging when there is one, else from the
 * last cycle that judged the trace: an example carried over from an earlier cycle keeps
 * what that cycle's judge said about it.
 */
export function examplesWithCritique(db: Db, ids: readonly string[], cycleId: string) {
  return db
    .selectFrom('dataset_examples as ex')
    .leftJoin('annotations as a', 'a.id', 'ex.annotation_id')
    .select([
      'ex.id',
      'ex.input',
      'ex.expected',
      'a.comment',
      sql<string | null>`(
        select string_agg(s.explanation, ' ' order by s.dimension) from scores s
        where s.trace_id = ex.trace_id and s.source = 'judge' and s.value < 1
          and s.cycle_id = (
            select j.cycle_id from scores j
            where j.trace_id = ex.trace_id and j.source = 'judge'
            order by (j.cycle_id = ${cycleId}) desc, j.created_at desc
            limit 1
          )
      )`.as('judge_failures'),
    ])
    .where('ex.id', 'in', [...ids])
    .execute();
}

/**
 * The examples of one split of a dataset version with everything a replay needs (the
 * recorded conversation, the expected step, the slice tags), in the same order as
 * splitExamples: what `flywheel eval` replays a prompt on outside a cycle.
 */
export function gateExamples(db: Db, datasetVersionId: string, split: 'eval' | 'holdout') {
  return db
    .selectFrom('dataset_examples')
    .select(['id', 'input', 'expected', 'slices'])
    .where('dataset_version_id', '=', datasetVersionId)
    .where('split', '=', split)
    .orderBy('id')
    .execute();
}
