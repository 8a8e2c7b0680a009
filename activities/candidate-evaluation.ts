import { heartbeat, cancellationSignal } from '@temporalio/activity';
import { outcomeMatch, mean } from '../core/evaluator.js';
import { agentConfig } from '../db/agent-repository.js';
import type { Db } from '../db/connection.js';
import { runAgentStep } from '../llm/agent-step.js';
import type { ChatTool, LlmRoles } from '../llm/llm-client.js';
import { renderCandidate } from './search-executor.js';
import { AgentAction, ChatMessage } from '../schemas/trace.js';
import { boundedMap } from './bounded-map.js';

const Input = ChatMessage.array();

export interface SplitEvaluation {
  score: number;
  examples: number;
  /** Task-model calls made for this evaluation (cached calls count: budgets stay comparable). */
  rollouts: number;
  tokens: number;
  outputs: { exampleId: string; messages: ChatMessage[]; step: AgentAction; score: number }[];
}

/**
 * Step-replays a candidate prompt on one split of a dataset version and stores the
 * per-example scores. Examples already scored for this candidate are reused, so a retried
 * activity resumes where the crashed attempt stopped.
 */
export async function evaluateOnSplit(
  deps: { db: Db; llm: LlmRoles; llmConcurrency: number },
  args: {
    agent: string;
    candidateId: string;
    datasetVersionId: string;
    split: 'train' | 'eval';
    seed: number;
  },
): Promise<SplitEvaluation> {
  const { db, llm } = deps;
  const { tools: agentTools } = await agentConfig(db, args.agent);
  const candidate = await db
    .selectFrom('candidates')
    .select(['prompt_text', 'components'])
    .where('id', '=', args.candidateId)
    .executeTakeFirstOrThrow();
  // Optimizer candidates may also rewrite tool descriptions: evaluate with those too.
  const components = candidate.components as Record<string, string> | null;
  const tools = components ? await renderedTools(db, components, agentTools) : agentTools;
  const examples = await db
    .selectFrom('dataset_examples')
    .leftJoin('candidate_scores', (j) =>
      j
        .onRef('candidate_scores.example_id', '=', 'dataset_examples.id')
        .on('candidate_scores.candidate_id', '=', args.candidateId),
    )
    .select([
      'dataset_examples.id',
      'dataset_examples.input',
      'dataset_examples.expected',
      'candidate_scores.score',
      'candidate_scores.output',
    ])
    .where('dataset_examples.dataset_version_id', '=', args.datasetVersionId)
    .where('dataset_examples.split', '=', args.split)
    .orderBy('dataset_examples.id')
    .execute();
  let tokens = 0;
  let done = 0;
  const outputs = await boundedMap(examples, deps.llmConcurrency, async (ex) => {
    const messages = Input.parse((ex.input as { messages: unknown }).messages);
    if (ex.score !== null && ex.output !== null) {
      return { exampleId: ex.id, messages, step: AgentAction.parse(ex.output), score: ex.score };
    }
    const { step, tokens: used } = await runAgentStep(
      llm.agent,
      { systemPrompt: candidate.prompt_text, messages, tools, seed: args.seed },
      cancellationSignal(),
    );
    tokens += used;
    const score = outcomeMatch(AgentAction.parse(ex.expected), step).value;
    await db
      .insertInto('candidate_scores')
      .values({ candidate_id: args.candidateId, example_id: ex.id, score, output: JSON.stringify(step) })
      .onConflict((oc) => oc.columns(['candidate_id', 'example_id']).doNothing())
      .execute();
    heartbeat({ done: ++done, of: examples.length });
    return { exampleId: ex.id, messages, step, score };
  });
  return {
    score: mean(outputs.map((o) => o.score)),
    examples: outputs.length,
    rollouts: outputs.length,
    tokens,
    outputs,
  };
}

async function renderedTools(
  db: Db,
  components: Record<string, string>,
  tools: ChatTool[],
): Promise<ChatTool[]> {
  const ids = Object.values(components);
  const rows = ids.length
    ? await db.selectFrom('prompt_texts').select(['id', 'text']).where('id', 'in', ids).execute()
    : [];
  return renderCandidate(new Map(rows.map((r) => [r.id, r.text])), components, tools).tools;
}
