import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../schemas/failure-types.js';
import { mean } from '../evaluation/evaluator.js';
import type { Db } from '../db/connection.js';
import type { LlmRoles } from '../llm/llm-client.js';
import type { Candidate } from '../optimizers/prompt-search.js';
import type { AgentAction, ChatMessage } from '../schemas/trace.js';
import { splitExamples } from '../datasets/store/optimizer-examples.js';
import { candidateWithRun } from '../optimization/store/candidate-repository.js';
import { pgSearchIo } from './pg-search-io.js';
import { evaluateCandidate } from './search-executor.js';

export interface SplitEvaluation {
  score: number;
  examples: number;
  /** Task-model calls made for this evaluation (cached calls count: budgets stay comparable). */
  rollouts: number;
  tokens: number;
  outputs: {
    exampleId: string;
    messages: ChatMessage[];
    step: AgentAction;
    score: number;
    /** The dataset example's slice tags, for per-slice gate assertions. */
    slices: string[];
  }[];
}

/**
 * Step-replays an optimizer candidate (system prompt, demos, tool descriptions) on one
 * split of a dataset version, through the same executor and per-example score store the
 * optimizer uses, so scores already computed are reused and a retry resumes.
 */
export async function evaluateOnSplit(
  deps: { db: Db; llm: LlmRoles; llmConcurrency: number },
  args: {
    agent: string;
    candidateId: string;
    datasetVersionId: string;
    split: 'train' | 'eval' | 'holdout';
    seed: number;
  },
): Promise<SplitEvaluation> {
  const { db } = deps;
  const row = await candidateWithRun(db, args.candidateId);
  if (row.components === null) {
    throw ApplicationFailure.nonRetryable(
      `Candidate ${args.candidateId} has no components; only optimizer candidates can be evaluated.`,
      FailureType.InvalidInput,
    );
  }
  const io = await pgSearchIo(deps, {
    runId: row.run_id,
    cycleId: row.cycle_id,
    agent: args.agent,
    seed: args.seed,
  });
  const { store } = io;
  const searchId = args.candidateId.slice(row.run_id.length + 1);
  const rows = await splitExamples(db, args.datasetVersionId, args.split);
  const exampleIds = rows.map((e) => e.id);
  const { scores, tokens } = await evaluateCandidate(io, row.components as Candidate, searchId, exampleIds);
  const [stored, examples] = await Promise.all([
    store.outputs(searchId, exampleIds),
    store.examples(exampleIds),
  ]);
  const outputs = exampleIds.map((exampleId, i) => ({
    exampleId,
    messages: examples.get(exampleId)!.messages,
    step: stored.get(exampleId)!.step,
    score: scores[i]!,
    slices: rows[i]!.slices,
  }));
  return { score: mean(scores), examples: outputs.length, rollouts: outputs.length, tokens, outputs };
}
