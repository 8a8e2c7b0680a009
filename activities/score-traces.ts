import { sql } from 'kysely';
import { heartbeat, cancellationSignal } from '@temporalio/activity';
import { outcomeMatch } from '../core/evaluator.js';
import { JudgeVerdict } from '../schemas/llm-outputs.js';
import { AgentAction, ChatMessage } from '../schemas/trace.js';
import { JUDGE_SYSTEM, judgeUserPrompt } from '../llm/prompt-templates.js';
import { JUDGE_VERDICT_SCHEMA, parseStructured } from '../llm/structured-output.js';
import type { ActivityDeps } from './activity-deps.js';
import { traceVerdicts } from './cycle-verdicts.js';
import { boundedMap } from './bounded-map.js';

const Messages = ChatMessage.array();

export function createScoreActivities({ db, llm, llmConcurrency }: ActivityDeps) {
  return {
    /**
     * Code evaluator (expected-outcome match) where the trace has an expectation, and the
     * LLM judge rubric on every sampled trace. Traces already scored for this cycle are
     * skipped, so a retry after a crash resumes instead of paying again.
     */
    async scoreSample(args: {
      cycleId: string;
      seed: number;
    }): Promise<{ scored: number; failing: number; judgeCalls: number; codeScored: number; tokens: number }> {
      const rows = await db
        .selectFrom('samples')
        .leftJoin('scores', (join) =>
          join
            .onRef('scores.trace_id', '=', 'samples.trace_id')
            .on('scores.cycle_id', '=', args.cycleId)
            .on('scores.source', '=', 'judge'),
        )
        // The redacted copy, never the raw trace: the judge is a model.
        .select([
          'samples.trace_id as id',
          sql<unknown>`samples.redacted -> 'input'`.as('input'),
          sql<unknown>`samples.redacted -> 'output'`.as('output'),
          sql<unknown>`samples.redacted -> 'expected'`.as('expected'),
        ])
        .where('samples.cycle_id', '=', args.cycleId)
        .where('scores.id', 'is', null)
        .orderBy('samples.trace_id')
        .execute();
      let judgeCalls = 0;
      let tokens = 0;
      let done = 0;
      await boundedMap(rows, llmConcurrency, async (row) => {
        const messages = Messages.parse((row.input as { messages: unknown }).messages);
        const output = AgentAction.parse(row.output);
        const values = [];
        if (row.expected !== null && row.expected !== undefined) {
          const code = outcomeMatch(AgentAction.parse(row.expected), output);
          values.push({ ...code, category: null });
        }
        const response = await llm.judge.chat(
          {
            messages: [
              { role: 'system', content: JUDGE_SYSTEM },
              { role: 'user', content: judgeUserPrompt(messages, output) },
            ],
            jsonSchema: JUDGE_VERDICT_SCHEMA,
            temperature: 0,
            seed: args.seed,
          },
          cancellationSignal(),
        );
        judgeCalls++;
        tokens += response.usage.promptTokens + response.usage.completionTokens;
        const verdict = parseStructured(JudgeVerdict, response.content, 'judge');
        values.push({
          dimension: 'task_completion',
          value: verdict.verdict === 'pass' ? 1 : 0,
          label: verdict.verdict,
          category: verdict.verdict === 'fail' ? (verdict.failure_category ?? 'other') : null,
          explanation: verdict.rationale,
          source: 'judge' as const,
        });
        // Code score first, judge last: the judge row marks the trace as fully scored.
        for (const v of values) {
          await db
            .insertInto('scores')
            .values({
              cycle_id: args.cycleId,
              trace_id: row.id,
              dimension: v.dimension,
              value: v.value,
              label: v.label,
              category: v.category,
              explanation: v.explanation,
              source: v.source,
            })
            .onConflict((oc) => oc.columns(['cycle_id', 'trace_id', 'dimension', 'source']).doNothing())
            .execute();
        }
        heartbeat({ done: ++done, of: rows.length });
      });
      const summary = await failingSummary(args.cycleId);
      return { ...summary, judgeCalls, tokens };
    },
  };

  async function failingSummary(cycleId: string) {
    const verdicts = [...(await traceVerdicts(db, cycleId)).values()];
    return {
      scored: verdicts.length,
      failing: verdicts.filter((v) => v.failing).length,
      codeScored: verdicts.filter((v) => v.code !== undefined).length,
    };
  }
}
