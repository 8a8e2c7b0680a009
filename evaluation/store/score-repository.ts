import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';
import type { ScoreRow } from '../../db/database.js';
import type { Evaluation, EvaluatorError } from '../../schemas/evaluation.js';

/**
 * Scores and evaluator errors of a cycle's sampled traces, and the reviewers' `human`
 * scores. Each is written once per (cycle, trace, evaluator): a second write keeps the
 * first, so a retried evaluation or review stores nothing twice and never changes a
 * verdict already recorded.
 */

/** An evaluation's columns in `scores`, for a cycle's score and for an online one. */
export function scoreColumns(e: Evaluation, rubricVersion: number | null) {
  return {
    evaluator: e.evaluator,
    dimension: e.dimension,
    value: e.score,
    label: e.label,
    category: e.category,
    explanation: e.explanation,
    source: e.source,
    cost_usd: e.costUsd,
    confidence: e.confidence,
    findings: JSON.stringify(e.findings),
    rubric_version: rubricVersion,
  };
}

/** rubricVersion: the agent's judge rubric version behind a judge score (null otherwise). */
export async function insertScore(
  db: Db,
  cycleId: string,
  traceId: string,
  e: Evaluation,
  rubricVersion: number | null = null,
): Promise<void> {
  await db
    .insertInto('scores')
    .values({ cycle_id: cycleId, trace_id: traceId, ...scoreColumns(e, rubricVersion) })
    .onConflict((oc) => oc.columns(['cycle_id', 'trace_id', 'evaluator']).doNothing())
    .execute();
}

export async function insertEvaluatorError(
  db: Db,
  cycleId: string,
  traceId: string,
  e: EvaluatorError,
  rubricVersion: number,
): Promise<void> {
  await db
    .insertInto('evaluator_errors')
    .values({
      cycle_id: cycleId,
      trace_id: traceId,
      evaluator: e.evaluator,
      dimension: e.dimension,
      source: e.source,
      error: e.error,
      rubric_version: rubricVersion,
    })
    .onConflict((oc) => oc.columns(['cycle_id', 'trace_id', 'evaluator']).doNothing())
    .execute();
}

/**
 * The (trace, evaluator) pairs of the cycle the judge already answered: with a score, or with
 * an error (`errored`).
 */
export async function judgeAnswers(
  db: Db,
  cycleId: string,
): Promise<(Pick<ScoreRow, 'trace_id' | 'evaluator'> & { errored: boolean })[]> {
  return [
    ...(
      await db
        .selectFrom('scores')
        .select(['trace_id', 'evaluator'])
        .where('cycle_id', '=', cycleId)
        .where('source', '=', 'judge')
        .execute()
    ).map((r) => ({ ...r, errored: false })),
    ...(
      await db
        .selectFrom('evaluator_errors')
        .select(['trace_id', 'evaluator'])
        .where('cycle_id', '=', cycleId)
        .execute()
    ).map((r) => ({ ...r, errored: true })),
  ];
}

export async function countEvaluatorErrors(db: Db, cycleId: string): Promise<number> {
  const errors = await db
    .selectFrom('evaluator_errors')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('cycle_id', '=', cycleId)
    .executeTakeFirstOrThrow();
  return Number(errors.n);
}

export type FailingScore = Pick<
  ScoreRow,
  'trace_id' | 'dimension' | 'evaluator' | 'explanation' | 'category' | 'findings'
>;

/** The failing scores of the cycle's traces `traceIds`, by trace then evaluator. */
export async function failingScores(db: Db, cycleId: string, traceIds: string[]): Promise<FailingScore[]> {
  return db
    .selectFrom('scores')
    .select(['trace_id', 'dimension', 'evaluator', 'explanation', 'category', 'findings'])
    .where('cycle_id', '=', cycleId)
    .where('label', '=', 'fail')
    .where('trace_id', 'in', traceIds)
    .orderBy('trace_id')
    .orderBy('evaluator')
    .execute();
}

/** Every score of the cycle that takes part in deciding verdicts, by trace then evaluator. */
export async function verdictScores(db: Db, cycleId: string) {
  return db
    .selectFrom('scores')
    .select(['trace_id', 'source', 'evaluator', 'dimension', 'label', 'value', 'category', 'confidence'])
    .where('cycle_id', '=', cycleId)
    .orderBy('trace_id')
    .orderBy('evaluator')
    .execute();
}

/** The scores a reviewer sees beside the traces `traceIds` of the cycle, by evaluator. */
export async function reviewScores(db: Db, cycleId: string, traceIds: readonly string[]) {
  return db
    .selectFrom('scores')
    .select([
      'trace_id',
      'evaluator',
      'dimension',
      'source',
      'label',
      'value',
      'confidence',
      'category',
      'explanation',
      'findings',
    ])
    .where('cycle_id', '=', cycleId)
    .where('trace_id', 'in', traceIds)
    .orderBy('evaluator')
    .execute();
}

/**
 * Sampled traces of a cycle that the task-completion judge passed, in an order fixed by the
 * cycle and trace ids (a hash, so neither arrival order nor id prefixes bias the pick):
 * the calibration items of the annotation queue.
 */
export async function judgePassedTraces(db: Db, cycleId: string, limit: number): Promise<string[]> {
  if (limit <= 0) return [];
  const rows = await db
    .selectFrom('scores')
    .select('trace_id')
    .where('cycle_id', '=', cycleId)
    .where('evaluator', '=', 'judge:task_completion')
    .where('label', '=', 'pass')
    .orderBy(sql`md5(${cycleId} || trace_id)`)
    .limit(limit)
    .execute();
  return rows.map((r) => r.trace_id);
}

/** The reviewers' verdict on a trace's task completion, stored as the `human` evaluator's score. */
export async function insertHumanScore(
  db: Db,
  score: {
    cycleId: string;
    traceId: string;
    verdict: 'pass' | 'fail';
    category: string | null;
    explanation: string;
  },
): Promise<void> {
  await db
    .insertInto('scores')
    .values({
      cycle_id: score.cycleId,
      trace_id: score.traceId,
      evaluator: 'human',
      dimension: 'task_completion',
      value: score.verdict === 'pass' ? 1 : 0,
      label: score.verdict,
      category: score.category,
      explanation: score.explanation,
      source: 'human',
    })
    .onConflict((oc) => oc.columns(['cycle_id', 'trace_id', 'evaluator']).doNothing())
    .execute();
}

/** Per evaluator, how many errors it had in the cycle and one of their messages. */
export async function evaluatorErrorSummary(db: Db, cycleId: string) {
  return db
    .selectFrom('evaluator_errors')
    .select(['evaluator', (eb) => eb.fn.countAll<string>().as('n'), (eb) => eb.fn.min('error').as('example')])
    .where('cycle_id', '=', cycleId)
    .groupBy('evaluator')
    .orderBy('evaluator')
    .execute();
}

/** Every score of one trace across cycles (code checks, judge, humans), oldest first. */
export async function traceScores(db: Db, traceId: string) {
  return db
    .selectFrom('scores')
    .select([
      'cycle_id',
      'evaluator',
      'dimension',
      'source',
      'value',
      'label',
      'category',
      'explanation',
      'confidence',
      'rubric_version',
      'created_at',
    ])
    .where('trace_id', '=', traceId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}
