import { matchCustomStrata } from './strata-match.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import type { Db } from '../db/connection.js';
import { traceFromRow } from './store/trace-reader.js';
import { applyFeedback, recordFeedbackEvent, setTraceStrata } from './store/feedback-repository.js';
import { FeedbackInput } from '../schemas/feedback.js';
import type { ItemError } from './trace-ingest-service.js';
import { formatIssues } from '../schemas/format-issues.js';

export interface FeedbackReport {
  applied: { item: string; matched: number }[];
  rejected: ItemError[];
}

/**
 * Applies feedback items for one agent. Each item is validated on its own; every item,
 * matched or not, is kept in feedback_events, so feedback that arrives before its trace is
 * not lost and the response says it matched nothing yet.
 */
export async function attachFeedback(db: Db, agent: string, body: unknown): Promise<FeedbackReport> {
  const items: unknown[] = Array.isArray(body)
    ? body
    : typeof body === 'object' && body !== null && Array.isArray((body as { items?: unknown }).items)
      ? (body as { items: unknown[] }).items
      : [body];
  const report: FeedbackReport = { applied: [], rejected: [] };
  const custom = (await agentConfig(db, agent)).sampling.strata.custom;
  for (const [index, raw] of items.entries()) {
    const item = `item ${index}`;
    const parsed = FeedbackInput.safeParse(raw);
    if (!parsed.success) {
      report.rejected.push({ item, error: formatIssues(parsed.error, { root: '(item)' }) });
      continue;
    }
    const f = parsed.data;
    const matched = await db.transaction().execute(async (tx) => {
      const updated = await applyFeedback(tx, agent, f);
      const count = updated.length;
      // New attributes or outcomes can put a trace into a custom sampling stratum.
      if (custom.length > 0) {
        for (const row of updated) {
          let strata: string[];
          try {
            strata = matchCustomStrata(traceFromRow(row), custom);
          } catch {
            continue; // a row written before the normalized model; its strata stay as they were
          }
          if (strata.join() === row.strata.join()) continue;
          await setTraceStrata(tx, row, strata);
        }
      }
      await recordFeedbackEvent(tx, {
        agent_id: agent,
        trace_id: f.traceId ?? null,
        session_id: f.sessionId ?? null,
        score: f.score ?? null,
        text: f.text ?? null,
        outcome: f.outcome ?? null,
        attributes: JSON.stringify({
          ...(f.attributes ?? {}),
          ...(f.reward === undefined ? {} : { reward: f.reward }),
        }),
        matched: count,
      });
      return count;
    });
    report.applied.push({ item, matched });
  }
  return report;
}
