import { sql } from 'kysely';
import type { Db } from '../db/connection.js';
import { reviewerAndJudgeLabels, reviewerLabel } from './reviewer-judge-labels.js';
import { renderSteps, renderTranscript, type JudgeExample } from '../llm/prompt-templates.js';
import { AgentAction, ChatMessage } from '../schemas/trace.js';

/**
 * Few-shot examples for each rubric from the agent's human corrections: traces where a
 * reviewer's label for the dimension (the overall verdict for task completion, or a
 * per-dimension label) disagreed with the judge. Newest first, at most `limit` per
 * dimension, read from the redacted sample copies a reviewer saw.
 */
export async function judgeExamples(
  db: Db,
  agent: string,
  dimensions: readonly string[],
  limit: number,
): Promise<Map<string, JudgeExample[]>> {
  const out = new Map<string, JudgeExample[]>();
  if (limit === 0) return out;
  for (const dimension of dimensions) {
    const rows = await reviewerAndJudgeLabels(db, agent, dimension)
      .innerJoin('samples', (j) =>
        j
          .onRef('samples.cycle_id', '=', 'annotation_items.cycle_id')
          .onRef('samples.trace_id', '=', 'annotation_items.trace_id'),
      )
      .select([
        'annotations.comment',
        'annotations.reviewer',
        sql<unknown>`samples.redacted -> 'input' -> 'messages'`.as('messages'),
        sql<unknown>`samples.redacted -> 'output'`.as('output'),
      ])
      .where(sql<boolean>`${reviewerLabel(dimension)} <> scores.label`)
      .orderBy('annotations.created_at', 'desc')
      .orderBy('annotations.id', 'desc')
      .limit(limit)
      .execute();
    const examples = rows.flatMap((r) => {
      const messages = ChatMessage.array().safeParse(r.messages);
      const output = AgentAction.safeParse(r.output);
      if (!messages.success || !output.success) return [];
      return [
        {
          transcript: renderTranscript(messages.data),
          steps: renderSteps([output.data]),
          verdict: r.human,
          note: r.comment ?? `labelled by ${r.reviewer}`,
        },
      ];
    });
    out.set(dimension, examples);
  }
  return out;
}
