import type { Db } from '../db/connection.js';
import { consensus } from '../annotation/annotation-consensus.js';
import { cycleLabels } from '../annotation/store/annotation-reads.js';
import { verdictScores } from '../evaluation/store/score-repository.js';
import { decisiveVerdicts, type DimensionVerdict } from '../evaluation/evaluation-cascade.js';

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
  db: Db,
  cycleId: string,
  minCodeConfidence: number,
): Promise<Map<string, TraceVerdict>> {
  const rows = await verdictScores(db, cycleId);
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

/**
 * The reviewers' consensus label per annotated trace of a cycle: the majority verdict of
 * the item's labels (a tie counts as `fail` and is flagged as a disagreement), carried by
 * the label that speaks for it (see annotation/annotation-consensus.ts). Items short of their
 * required reviews still count with the labels they have: at a deadline the cycle goes on
 * with the reviewers' labels so far.
 */
export async function latestLabels(db: Db, cycleId: string) {
  const rows = await cycleLabels(db, cycleId);
  const byTrace = new Map<string, typeof rows>();
  for (const r of rows) byTrace.set(r.trace_id, [...(byTrace.get(r.trace_id) ?? []), r]);
  const out = new Map<
    string,
    Omit<(typeof rows)[number], 'created_at'> & { reviews: number; disagreement: boolean }
  >();
  for (const [traceId, labels] of byTrace) {
    const decided = consensus(
      labels.map((l) => ({ ...l, createdAt: l.created_at, hasExpected: l.expected != null })),
    );
    if (!decided) continue;
    const { created_at: _createdAt, createdAt: _at, hasExpected: _has, ...row } = decided.representative;
    out.set(traceId, {
      ...row,
      verdict: decided.verdict,
      reviews: labels.length,
      disagreement: decided.disagreement,
    });
  }
  return out;
}
