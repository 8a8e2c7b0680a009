import { expandSpans } from '../span-compaction.js';
import { TraceRecord } from '../../schemas/trace.js';
import type { Db } from '../../db/connection.js';
import type { Trace } from '../../db/database.js';

/** A stored row back in the normalized model (spans expanded), for export and inspection. */
export function traceFromRow(row: Trace): TraceRecord {
  const opt = <T>(key: string, value: T | null) => (value === null ? {} : { [key]: value });
  return TraceRecord.parse({
    id: row.id,
    agent: row.agent_id,
    ...opt('promptName', row.prompt_name),
    ...opt('promptVersion', row.prompt_version),
    ...opt('sessionId', row.session_id),
    ...opt('userId', row.user_id),
    timestamp: row.started_at.toISOString(),
    ...opt('endTimestamp', row.ended_at?.toISOString() ?? null),
    ...opt('model', row.model),
    input: row.input,
    output: row.output,
    ...opt('expected', row.expected),
    ...opt('expectedActions', row.expected_actions),
    ...(row.feedback === null
      ? {}
      : { feedback: { score: row.feedback, ...opt('text', row.feedback_text) } }),
    ...opt('outcome', row.outcome),
    ...opt('reward', row.reward),
    status: row.status,
    ...(row.input_tokens === null && row.output_tokens === null
      ? {}
      : { usage: { ...opt('inputTokens', row.input_tokens), ...opt('outputTokens', row.output_tokens) } }),
    ...opt('costUsd', row.cost_usd),
    ...opt('latencyMs', row.latency_ms),
    spans: expandSpans(row.spans),
    attributes: row.attributes,
  });
}

export async function readTrace(db: Db, id: string): Promise<TraceRecord | undefined> {
  const row = await db.selectFrom('traces').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? traceFromRow(row) : undefined;
}
