import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';
import type { CoachingMarkRow } from '../../db/database.js';
import type { MarkVerdict } from '../coaching-threshold.js';

/**
 * Reviewers' marks on a coaching's applications: one per (coaching, trace, reviewer); a
 * reviewer who marks the same application again replaces their mark. Writers hold the
 * coaching's row lock (lockCoaching) while they read the marks and write one, so the
 * threshold computed from "every mark" saw every mark.
 */

export interface CoachingMark {
  coachingId: string;
  traceId: string;
  reviewer: string;
  verdict: MarkVerdict;
  appliedVersion: number;
  similarity: number;
  embedder: string;
  comment: string | null;
  thresholdBefore: number;
  thresholdAfter: number;
  createdAt: Date;
  updatedAt: Date;
}

const toMark = (r: CoachingMarkRow): CoachingMark => ({
  coachingId: r.coaching_id,
  traceId: r.trace_id,
  reviewer: r.reviewer,
  verdict: r.verdict,
  appliedVersion: r.applied_version,
  similarity: r.similarity,
  embedder: r.embedder,
  comment: r.comment,
  thresholdBefore: r.threshold_before,
  thresholdAfter: r.threshold_after,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A coaching's marks, oldest first. */
export async function coachingMarks(db: Db, coachingId: string): Promise<CoachingMark[]> {
  const rows = await db
    .selectFrom('coaching_marks')
    .selectAll()
    .where('coaching_id', '=', coachingId)
    .orderBy('created_at')
    .orderBy('trace_id')
    .orderBy('reviewer')
    .execute();
  return rows.map(toMark);
}

/** Stores a reviewer's mark on one application, replacing their earlier one. */
export async function upsertCoachingMark(
  tx: Db,
  mark: Omit<CoachingMark, 'createdAt' | 'updatedAt'>,
): Promise<CoachingMark> {
  const values = {
    verdict: mark.verdict,
    applied_version: mark.appliedVersion,
    similarity: mark.similarity,
    embedder: mark.embedder,
    comment: mark.comment,
    threshold_before: mark.thresholdBefore,
    threshold_after: mark.thresholdAfter,
  };
  const row = await tx
    .insertInto('coaching_marks')
    .values({ coaching_id: mark.coachingId, trace_id: mark.traceId, reviewer: mark.reviewer, ...values })
    .onConflict((oc) =>
      oc
        .columns(['coaching_id', 'trace_id', 'reviewer'])
        .doUpdateSet({ ...values, updated_at: sql<Date>`clock_timestamp()` }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return toMark(row);
}
