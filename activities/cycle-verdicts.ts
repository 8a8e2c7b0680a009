import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';

export interface TraceVerdict {
  code?: string;
  judge?: string;
  judgeCategory?: string | null;
  /** The code check decides where a trace has an expectation; the judge otherwise. */
  failing: boolean;
}

/** Each scored trace's code and judge labels for a cycle, and whether it counts as failing. */
export async function traceVerdicts(
  db: Kysely<Database>,
  cycleId: string,
): Promise<Map<string, TraceVerdict>> {
  const scores = await db
    .selectFrom('scores')
    .select(['trace_id', 'source', 'label', 'category'])
    .where('cycle_id', '=', cycleId)
    .where('source', 'in', ['code', 'judge'])
    .orderBy('trace_id')
    .execute();
  const verdicts = new Map<string, TraceVerdict>();
  for (const s of scores) {
    const v = verdicts.get(s.trace_id) ?? { failing: false };
    if (s.source === 'code') v.code = s.label;
    else {
      v.judge = s.label;
      v.judgeCategory = s.category;
    }
    v.failing = (v.code ?? v.judge) === 'fail';
    verdicts.set(s.trace_id, v);
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
