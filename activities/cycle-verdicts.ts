import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';
import { decisiveVerdicts, type DimensionVerdict } from '../core/evaluation-cascade.js';

export interface TraceVerdict {
  /** The verdict that counts per dimension (human, then confident code, then judge). */
  dimensions: Map<string, DimensionVerdict>;
  /** Which kinds of evaluator scored the trace. */
  sources: string[];
  /** Dimensions whose deciding verdict failed, in name order. */
  failingDimensions: string[];
  failing: boolean;
}

/**
 * Each scored trace's deciding verdict per dimension for a cycle. A trace fails when any
 * dimension's deciding verdict fails: a wrong tool call is a failure even when the reply
 * read well.
 */
export async function traceVerdicts(
  db: Kysely<Database>,
  cycleId: string,
  minCodeConfidence: number,
): Promise<Map<string, TraceVerdict>> {
  const rows = await db
    .selectFrom('scores')
    .select(['trace_id', 'source', 'evaluator', 'dimension', 'label', 'value', 'category', 'confidence'])
    .where('cycle_id', '=', cycleId)
    .orderBy('trace_id')
    .orderBy('evaluator')
    .execute();
  const byTrace = new Map<string, typeof rows>();
  for (const r of rows) byTrace.set(r.trace_id, [...(byTrace.get(r.trace_id) ?? []), r]);
  const verdicts = new Map<string, TraceVerdict>();
  for (const [traceId, list] of byTrace) {
    const dimensions = decisiveVerdicts(
      list.map((r) => ({ ...r, score: r.value })),
      minCodeConfidence,
    );
    const failingDimensions = [...dimensions.values()]
      .filter((v) => v.label === 'fail')
      .map((v) => v.dimension)
      .sort();
    verdicts.set(traceId, {
      dimensions,
      sources: [...new Set(list.map((r) => r.source))].sort(),
      failingDimensions,
      failing: failingDimensions.length > 0,
    });
  }
  return verdicts;
}

/** The newest reviewer label per annotated trace of a cycle (a later label supersedes). */
export async function latestLabels(db: Kysely<Database>, cycleId: string) {
  const rows = await db
    .selectFrom('annotations')
    .innerJoin('annotation_items', 'annotation_items.id', 'annotations.item_id')
    .distinctOn('annotation_items.trace_id')
    .select([
      'annotations.id',
      'annotation_items.trace_id',
      'annotation_items.judge_label',
      'annotations.verdict',
      'annotations.category',
      'annotations.expected',
      'annotations.comment',
      'annotations.reviewer',
    ])
    .where('annotation_items.cycle_id', '=', cycleId)
    .orderBy('annotation_items.trace_id')
    .orderBy('annotations.created_at', 'desc')
    .orderBy('annotations.id', 'desc')
    .execute();
  return new Map(rows.map((r) => [r.trace_id, r]));
}
