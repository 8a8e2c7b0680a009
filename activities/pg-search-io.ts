import { cancellationSignal, heartbeat } from '@temporalio/activity';
import type { Db } from '../db/connection.js';
import type { LlmRoles } from '../llm/llm-client.js';
import { PgSearchStore } from '../optimization/store/pg-search-store.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import type { SearchIo } from './search-executor.js';

/**
 * What the shared executor needs for one run, backed by Postgres: the run's score store,
 * the agent's tools, the model roles, and the activity's heartbeat and cancellation.
 */
export async function pgSearchIo(
  deps: { db: Db; llm: LlmRoles; llmConcurrency: number },
  args: { runId: string; cycleId: string; agent: string; seed: number },
): Promise<SearchIo & { store: PgSearchStore }> {
  const { tools } = await agentConfig(deps.db, args.agent);
  return {
    store: new PgSearchStore(deps.db, args.runId, args.cycleId, tools),
    agent: deps.llm.agent,
    teacher: deps.llm.teacher,
    tools,
    concurrency: deps.llmConcurrency,
    seed: args.seed,
    signal: cancellationSignal(),
    onProgress: (done, total) => heartbeat({ done, of: total }),
  };
}
