import { cancellationSignal } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { versionById } from '../db/prompt-repository.js';
import { PromptProposals } from '../schemas/llm-outputs.js';
import {
  renderStep,
  TEACHER_SYSTEM,
  teacherUserPrompt,
  type FailureForTeacher,
} from '../llm/prompt-templates.js';
import { PROMPT_PROPOSALS_SCHEMA, parseStructured } from '../llm/structured-output.js';
import type { OptimizerOutcome } from '../optimizers/optimizer.js';
import { ChatMessage } from '../schemas/trace.js';
import type { ActivityDeps } from './activity-deps.js';
import { evaluateOnSplit } from './candidate-evaluation.js';

export const baselineCandidateId = (runId: string) => `${runId}:baseline`;

export function createOptimizationActivities(deps: ActivityDeps) {
  const { db, llm } = deps;

  /** Failures the teacher reads: per cluster, a few traces with the reviewers' or judge's critique. */
  async function failureReport(cycleId: string, perCluster = 4): Promise<FailureForTeacher[]> {
    const clusters = await db
      .selectFrom('clusters')
      .selectAll()
      .where('cycle_id', '=', cycleId)
      .orderBy('size', 'desc')
      .execute();
    const report: FailureForTeacher[] = [];
    for (const c of clusters) {
      const rows = await db
        .selectFrom('cluster_members')
        .innerJoin('traces', 'traces.id', 'cluster_members.trace_id')
        .leftJoin('scores as judge', (j) =>
          j
            .onRef('judge.trace_id', '=', 'traces.id')
            .on('judge.cycle_id', '=', cycleId)
            .on('judge.source', '=', 'judge'),
        )
        .leftJoin('scores as human', (j) =>
          j
            .onRef('human.trace_id', '=', 'traces.id')
            .on('human.cycle_id', '=', cycleId)
            .on('human.source', '=', 'human'),
        )
        .select([
          'traces.input',
          'traces.output',
          'traces.feedback_text',
          'judge.explanation as judgeSays',
          'human.explanation as humanSays',
        ])
        .where('cluster_members.cluster_id', '=', c.id)
        .orderBy('traces.id')
        .limit(perCluster)
        .execute();
      report.push({
        category: c.category,
        count: c.size,
        examples: rows.map((r) => {
          const messages = ChatMessage.array().parse((r.input as { messages: unknown }).messages);
          return {
            request: messages
              .filter((m) => m.role === 'user')
              .map((m) => m.content)
              .join(' '),
            agentStep: renderStep(r.output as never),
            critique:
              [r.humanSays, r.judgeSays, r.feedback_text].filter(Boolean).join(' / ') || 'marked as failing',
          };
        }),
      });
    }
    return report;
  }

  return {
    async startOptimizationRun(args: {
      runId: string;
      cycleId: string;
      baselineVersionId: string;
      optimizer: string;
      config: unknown;
    }): Promise<{ baselineCandidateId: string }> {
      const baseline = await versionById(db, args.baselineVersionId);
      await db
        .insertInto('optimization_runs')
        .values({
          id: args.runId,
          cycle_id: args.cycleId,
          optimizer: args.optimizer,
          config: JSON.stringify(args.config),
          status: 'running',
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      const id = baselineCandidateId(args.runId);
      await db
        .insertInto('candidates')
        .values({
          id,
          run_id: args.runId,
          prompt_text: baseline.text,
          rationale: `production prompt ${baseline.id}`,
          parent_id: null,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      return { baselineCandidateId: id };
    },

    /** One teacher call proposing `count` rewrites; IDs are deterministic per request, so retries do not duplicate. */
    async proposeCandidates(args: {
      runId: string;
      cycleId: string;
      parentCandidateId: string;
      count: number;
      round: number;
      seed: number;
    }): Promise<{ candidateIds: string[]; tokens: number }> {
      const parent = await db
        .selectFrom('candidates')
        .select('prompt_text')
        .where('id', '=', args.parentCandidateId)
        .executeTakeFirstOrThrow();
      const report = await failureReport(args.cycleId);
      if (report.length === 0) {
        throw ApplicationFailure.nonRetryable(
          'No failure clusters to learn from; the optimizer should not have been started.',
          'InvalidInput',
        );
      }
      const response = await llm.teacher.chat(
        {
          messages: [
            { role: 'system', content: TEACHER_SYSTEM },
            { role: 'user', content: teacherUserPrompt(parent.prompt_text, report, args.count) },
          ],
          jsonSchema: PROMPT_PROPOSALS_SCHEMA,
          temperature: 1,
          seed: args.seed,
        },
        cancellationSignal(),
      );
      const proposals = parseStructured(PromptProposals, response.content, 'teacher');
      const seen = new Set<string>([parent.prompt_text]);
      const rows = proposals.candidates
        .filter((c) => !seen.has(c.prompt) && (seen.add(c.prompt), true))
        .map((c, i) => ({
          id: `${args.runId}:r${args.round}c${i + 1}`,
          run_id: args.runId,
          prompt_text: c.prompt,
          rationale: c.rationale,
          parent_id: args.parentCandidateId,
        }));
      if (rows.length > 0)
        await db
          .insertInto('candidates')
          .values(rows)
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
      return {
        candidateIds: rows.map((r) => r.id),
        tokens: response.usage.promptTokens + response.usage.completionTokens,
      };
    },

    async evaluateCandidate(args: {
      agent: string;
      candidateId: string;
      datasetVersionId: string;
      seed: number;
    }): Promise<{ score: number; rollouts: number; examples: number; tokens: number }> {
      const result = await evaluateOnSplit(deps, { ...args, split: 'train' });
      return {
        score: result.score,
        rollouts: result.rollouts,
        examples: result.examples,
        tokens: result.tokens,
      };
    },

    async finishOptimizationRun(args: {
      runId: string;
      outcome: OptimizerOutcome;
      reason: string;
    }): Promise<void> {
      await db
        .updateTable('optimization_runs')
        .set({
          status: 'completed',
          best_candidate_id: args.outcome.bestCandidateId,
          baseline_score: args.outcome.baselineScore,
          best_score: args.outcome.bestScore,
          rollouts: args.outcome.rolloutsUsed,
          stop_reason: args.reason,
        })
        .where('id', '=', args.runId)
        .execute();
    },
  };
}
