import type { Db } from '../db/connection.js';
import { ensureAgent } from '../db/agent-repository.js';
import { TraceRecord } from '../schemas/trace.js';
import { parseJsonl, type LineError } from './jsonl-parser.js';

export interface IngestReport {
  accepted: number;
  duplicates: number;
  rejected: LineError[];
}

export async function storeTraces(db: Db, records: readonly TraceRecord[]): Promise<{ inserted: number }> {
  let inserted = 0;
  for (const agent of new Set(records.map((r) => r.agent))) await ensureAgent(db, agent);
  for (let i = 0; i < records.length; i += 500) {
    const rows = records.slice(i, i + 500).map((r) => ({
      id: r.id,
      agent_id: r.agent,
      prompt_version: r.promptVersion ?? null,
      session_id: r.sessionId ?? null,
      user_id: r.userId ?? null,
      started_at: r.timestamp,
      input: JSON.stringify(r.input),
      output: JSON.stringify(r.output),
      expected: r.expected ? JSON.stringify(r.expected) : null,
      feedback: r.feedback?.score ?? null,
      feedback_text: r.feedback?.text ?? null,
      outcome: r.outcome ?? null,
      attributes: JSON.stringify(r.attributes),
    }));
    // Idempotent by trace id: a re-sent trace is not stored twice.
    const result = await db
      .insertInto('traces')
      .values(rows)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return { inserted };
}

/** Normalized-JSONL ingest: stores the valid lines, reports each bad one by line number. */
export async function ingestJsonl(db: Db, text: string): Promise<IngestReport> {
  const { records, errors } = parseJsonl(text, TraceRecord);
  // Two lines with the same id in one file: the first wins, the second is a duplicate.
  const seen = new Set<string>();
  const unique = records.filter((r) => !seen.has(r.value.id) && (seen.add(r.value.id), true));
  const { inserted } = await storeTraces(
    db,
    unique.map((r) => r.value),
  );
  return { accepted: inserted, duplicates: records.length - inserted, rejected: errors };
}
