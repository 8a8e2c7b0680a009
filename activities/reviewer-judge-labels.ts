import { sql } from 'kysely';
import type { Db } from '../db/connection.js';

/**
 * The reviewer's label for one rubric dimension: the overall verdict stands for task
 * completion, per-dimension labels for the other rubrics.
 */
export function reviewerLabel(dimension: string) {
  return dimension === 'task_completion'
    ? sql<string>`annotations.verdict`
    : sql<string>`annotations.dimensions ->> ${dimension}`;
}

/**
 * An agent's reviewer labels for a dimension next to the judge's verdict on the same trace
 * in the same cycle (selected as `human` and `judge`): what judge calibration measures and
 * where few-shot corrections come from. Callers add their own selection, order and limit.
 */
export function reviewerAndJudgeLabels(db: Db, agent: string, dimension: string) {
  const human = reviewerLabel(dimension);
  return db
    .selectFrom('annotations')
    .innerJoin('annotation_items', 'annotation_items.id', 'annotations.item_id')
    .innerJoin('cycles', 'cycles.id', 'annotation_items.cycle_id')
    .innerJoin('scores', (j) =>
      j
        .onRef('scores.cycle_id', '=', 'annotation_items.cycle_id')
        .onRef('scores.trace_id', '=', 'annotation_items.trace_id')
        .on('scores.evaluator', '=', `judge:${dimension}`),
    )
    .select([human.as('human'), 'scores.label as judge'])
    .where('cycles.agent_id', '=', agent)
    .where(human, 'is not', null);
}
