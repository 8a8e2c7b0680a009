import type { Db } from '../db/connection.js';
import { judgeCorrections } from '../evaluation/store/reviewer-judge-labels.js';
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
    const rows = await judgeCorrections(db, agent, dimension, limit);
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
