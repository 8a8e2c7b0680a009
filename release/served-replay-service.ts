import type { Db } from '../db/connection.js';
import type { PromptVersion } from '../db/database.js';
import { gateExamples } from '../datasets/store/optimizer-examples.js';
import { outcomeMatch } from '../evaluation/evaluator.js';
import { runAgentStep } from '../llm/agent-step.js';
import { boundedMap } from '../llm/bounded-map.js';
import type { LlmRoles } from '../llm/llm-client.js';
import type { AgentConfig } from '../schemas/agent-config.js';
import { formatIssues } from '../schemas/format-issues.js';
import { PromptConfig, promptForAgent, type PromptBody } from '../schemas/prompt.js';
import { AgentAction, ChatMessage } from '../schemas/trace.js';
import { UserError } from '../schemas/user-error.js';
import type { ReplayCoaching } from '../coaching/coaching-replay-service.js';
import type { GateOutput } from './gate-scoring-service.js';

/**
 * Step replay of a prompt as it is served: its body and config, with the coaching its
 * agents would recall inserted per conversation. `flywheel eval` gates with it, and so does
 * a cycle's gate whenever the agent has coaching (active, or candidates it gates as a set).
 */

export interface Served {
  prompt: PromptBody;
  config: PromptConfig;
}

export const servedOf = (v: PromptVersion): Served => ({
  prompt: v.text,
  config: PromptConfig.parse(v.config),
});

/** A dataset version's examples of one split, ready to replay; a malformed example is named. */
export async function examplesOf(db: Db, datasetVersionId: string, split: 'eval' | 'holdout') {
  const rows = await gateExamples(db, datasetVersionId, split);
  return rows.map((r) => {
    const messages = ChatMessage.array().safeParse((r.input as { messages?: unknown } | null)?.messages);
    const expected = AgentAction.safeParse(r.expected);
    if (!messages.success || !expected.success)
      throw new UserError(
        `Dataset example ${r.id} cannot be replayed (${formatIssues((messages.error ?? expected.error)!, { root: 'example' })}); retire it with \`flywheel dataset retire\`.`,
      );
    return { id: r.id, messages: messages.data, expected: expected.data, slices: r.slices };
  });
}

export type Example = Awaited<ReturnType<typeof examplesOf>>[number];

/**
 * Step replay of one prompt on the examples, scored against each example's expected step.
 * The coaching set's memories that the conversation recalls are inserted as an agent
 * inserts them; the judge sees the conversation as the user wrote it.
 */
export async function replay(
  deps: { llm: LlmRoles; concurrency: number },
  served: Served,
  coaching: ReplayCoaching | null,
  agent: AgentConfig,
  examples: readonly Example[],
  seed: number,
): Promise<GateOutput[]> {
  const { systemPrompt, tools } = promptForAgent(
    served,
    agent.tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })),
  );
  return boundedMap(examples, deps.concurrency, async (ex) => {
    const recalled = coaching && coaching.size > 0 ? await coaching.recall(ex.messages) : null;
    const { step } = await runAgentStep(deps.llm.agent, {
      systemPrompt,
      messages: ex.messages,
      fewShot: recalled?.messages ?? [],
      tools,
      seed,
    });
    return {
      exampleId: ex.id,
      messages: ex.messages,
      step,
      score: outcomeMatch(ex.expected, step).value,
      slices: ex.slices,
      ...(recalled ? { recalled: recalled.coaching.map((c) => c.id) } : {}),
    };
  });
}
