import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';
import type { NewFeedbackEvent, TraceRow } from '../../db/database.js';
import type { FeedbackInput } from '../../schemas/feedback.js';

/**
 * Feedback on traces: the feedback columns of the traces it matches and one
 * feedback_events row per item, matched or not. Callers run an item's writes in one
 * transaction, so a trace never shows feedback whose event was not recorded.
 */

/**
 * Sets the item's feedback on the agent's trace (by id) or on every trace of its session,
 * merging attributes into the stored ones; returns the updated rows.
 */
export async function applyFeedback(tx: Db, agent: string, f: FeedbackInput): Promise<TraceRow[]> {
  let update = tx
    .updateTable('traces')
    .set({
      ...(f.score === undefined ? {} : { feedback: f.score }),
      ...(f.text === undefined ? {} : { feedback_text: f.text }),
      ...(f.outcome === undefined ? {} : { outcome: f.outcome }),
      ...(f.reward === undefined ? {} : { reward: f.reward }),
      ...(f.attributes === undefined
        ? {}
        : { attributes: sql`attributes || ${JSON.stringify(f.attributes)}::jsonb` }),
    })
    .where('agent_id', '=', agent);
  update =
    f.traceId !== undefined
      ? update.where('id', '=', f.traceId)
      : update.where('session_id', '=', f.sessionId ?? '');
  return update.returningAll().execute();
}

export async function setTraceStrata(
  tx: Db,
  trace: Pick<TraceRow, 'id' | 'started_at'>,
  strata: string[],
): Promise<void> {
  await tx
    .updateTable('traces')
    .set({ strata })
    .where('id', '=', trace.id)
    .where('started_at', '=', trace.started_at)
    .execute();
}

export async function recordFeedbackEvent(tx: Db, event: NewFeedbackEvent): Promise<void> {
  await tx.insertInto('feedback_events').values(event).execute();
}
