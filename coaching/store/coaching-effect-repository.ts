import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';
import { COACHING_TRACE_ATTRIBUTE } from '../../schemas/coaching.js';

/**
 * The traces a coaching's effect is measured on, read-only: those that applied it (their
 * `flywheel.coaching.ids` holds one of its `id@version` tags; the partial GIN index of
 * migration 0028 finds them) and the agent's other recent traces, among which the service
 * finds the similar conversations that did not apply it. Each row carries its outcome:
 * feedback and online evaluation's judge verdicts (scores with no cycle, source judge).
 */

export interface TraceOutcomeRow {
  id: string;
  startedAt: Date;
  feedback: number | null;
  judgeScores: number;
  judgeFailures: number;
}

export interface AppliedTraceRow extends TraceOutcomeRow {
  /** The trace's `flywheel.coaching.ids` value as stored. */
  applied: unknown;
  /** How many messages came before the trace's decision: the step the coaching applied at. */
  step: number;
}

export interface UnappliedTraceRow extends TraceOutcomeRow {
  messages: unknown;
}

const judgeCounts = [
  sql<string>`(select count(*) from scores s where s.trace_id = traces.id and s.cycle_id is null and s.source = 'judge')`.as(
    'judge_scores',
  ),
  sql<string>`(select count(*) from scores s where s.trace_id = traces.id and s.cycle_id is null and s.source = 'judge' and s.label = 'fail')`.as(
    'judge_failures',
  ),
];

const applied = (tags: readonly string[]) =>
  sql<boolean>`(traces.attributes ? ${COACHING_TRACE_ATTRIBUTE} and (traces.attributes -> ${COACHING_TRACE_ATTRIBUTE}) ?| ${sql.val([...tags])}::text[])`;

const outcome = (r: {
  id: string;
  started_at: Date;
  feedback: number | null;
  judge_scores: string;
  judge_failures: string;
}): TraceOutcomeRow => ({
  id: r.id,
  startedAt: r.started_at,
  feedback: r.feedback,
  judgeScores: Number(r.judge_scores),
  judgeFailures: Number(r.judge_failures),
});

/** The agent's traces started in [from, to) that applied one of `tags`, newest first, at most `limit`. */
export async function appliedTraces(
  db: Db,
  agent: string,
  tags: readonly string[],
  window: { from: Date; to: Date; limit: number },
): Promise<AppliedTraceRow[]> {
  if (tags.length === 0) return [];
  const rows = await db
    .selectFrom('traces')
    .select([
      'traces.id',
      'traces.started_at',
      'traces.feedback',
      sql<unknown>`traces.attributes -> ${COACHING_TRACE_ATTRIBUTE}`.as('applied'),
      sql<number>`case when jsonb_typeof(traces.input -> 'messages') = 'array' then jsonb_array_length(traces.input -> 'messages') else 0 end`.as(
        'step',
      ),
      ...judgeCounts,
    ])
    .where('traces.agent_id', '=', agent)
    .where('traces.started_at', '>=', window.from)
    .where('traces.started_at', '<', window.to)
    .where(applied(tags))
    .orderBy('traces.started_at', 'desc')
    .orderBy('traces.id', 'desc')
    .limit(window.limit)
    .execute();
  return rows.map((r) => ({ ...outcome(r), applied: r.applied, step: Number(r.step) }));
}

/**
 * The agent's traces started in [from, to) that applied none of `tags`, newest first, at most
 * `limit`, with their messages (the service matches their situation).
 */
export async function unappliedTraces(
  db: Db,
  agent: string,
  tags: readonly string[],
  window: { from: Date; to: Date; limit: number },
): Promise<UnappliedTraceRow[]> {
  let q = db
    .selectFrom('traces')
    .select([
      'traces.id',
      'traces.started_at',
      'traces.feedback',
      sql<unknown>`traces.input -> 'messages'`.as('messages'),
      ...judgeCounts,
    ])
    .where('traces.agent_id', '=', agent)
    .where('traces.started_at', '>=', window.from)
    .where('traces.started_at', '<', window.to);
  if (tags.length > 0) q = q.where(sql<boolean>`not ${applied(tags)}`);
  const rows = await q
    .orderBy('traces.started_at', 'desc')
    .orderBy('traces.id', 'desc')
    .limit(window.limit)
    .execute();
  return rows.map((r) => ({ ...outcome(r), messages: r.messages }));
}
