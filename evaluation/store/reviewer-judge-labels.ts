import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';
import type { AnnotationItemRow, AnnotationRow, CycleRow, ScoreRow } from '../../db/database.js';

/**
 * Reviewer labels next to the judge's verdicts, read across the agent's cycles. Plain
 * reads: a correction is a new annotation, so "newest" is by created_at, then id.
 */

/**
 * The reviewer's label for one rubric dimension: the overall verdict stands for task
 * completion, per-dimension labels for the other rubrics.
 */
function reviewerLabel(dimension: string) {
  return dimension === 'task_completion'
    ? sql<string>`annotations.verdict`
    : sql<string>`annotations.dimensions ->> ${dimension}`;
}

/**
 * An agent's reviewer labels for a dimension next to the judge's verdict on the same trace
 * in the same cycle (selected as `human` and `judge`): what judge calibration measures and
 * where few-shot corrections come from. The reads below add their own selection and order.
 */
function reviewerAndJudgeLabels(db: Db, agent: string, dimension: string) {
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

export interface ReviewerJudgeLabel {
  cycle_id: AnnotationItemRow['cycle_id'];
  trace_id: AnnotationItemRow['trace_id'];
  /** When the cycle started: newer cycles' labels count first. */
  started_at: CycleRow['started_at'];
  human: string;
  judge: ScoreRow['label'];
}

/**
 * The newest reviewer label per (cycle, trace) for a dimension, a later correction
 * superseding an earlier one, next to the judge's verdict: what calibration compares.
 */
export async function latestReviewerJudgeLabels(
  db: Db,
  agent: string,
  dimension: string,
): Promise<ReviewerJudgeLabel[]> {
  return reviewerAndJudgeLabels(db, agent, dimension)
    .distinctOn(['annotation_items.cycle_id', 'annotation_items.trace_id'])
    .select(['annotation_items.cycle_id', 'annotation_items.trace_id', 'cycles.started_at'])
    .orderBy('annotation_items.cycle_id')
    .orderBy('annotation_items.trace_id')
    .orderBy('annotations.created_at', 'desc')
    .orderBy('annotations.id', 'desc')
    .execute();
}

export interface JudgeCorrection {
  human: string;
  comment: AnnotationRow['comment'];
  reviewer: AnnotationRow['reviewer'];
  /** The sampled trace's redacted input messages and output, as the reviewer saw them. */
  messages: unknown;
  output: unknown;
}

/**
 * The agent's reviewer labels for a dimension that disagree with the judge, newest first,
 * at most `limit`: the human corrections few-shot examples are made from.
 */
export async function judgeCorrections(
  db: Db,
  agent: string,
  dimension: string,
  limit: number,
): Promise<JudgeCorrection[]> {
  return reviewerAndJudgeLabels(db, agent, dimension)
    .innerJoin('samples', (j) =>
      j
        .onRef('samples.cycle_id', '=', 'annotation_items.cycle_id')
        .onRef('samples.trace_id', '=', 'annotation_items.trace_id'),
    )
    .select([
      'annotations.comment',
      'annotations.reviewer',
      sql<unknown>`samples.redacted -> 'input' -> 'messages'`.as('messages'),
      sql<unknown>`samples.redacted -> 'output'`.as('output'),
    ])
    .where(sql<boolean>`${reviewerLabel(dimension)} <> scores.label`)
    .orderBy('annotations.created_at', 'desc')
    .orderBy('annotations.id', 'desc')
    .limit(limit)
    .execute();
}
