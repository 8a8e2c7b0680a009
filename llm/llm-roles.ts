import type { Db } from '../db/connection.js';
import type { ModelRoles } from '../schemas/config.js';
import type { LlmRoles } from './llm-client.js';
import { trackedLlmClient } from './model-calls-in-flight.js';
import { OpenAiLlmClient } from './openai-llm-client.js';

/** Each role's client; its calls count as in flight for the activity attempt that makes them. */
export function createLlmRoles(models: ModelRoles, db: Db | null): LlmRoles {
  const client = (endpoint: ModelRoles['agent']) => trackedLlmClient(new OpenAiLlmClient(endpoint, db));
  return {
    agent: client(models.agent),
    judge: client(models.judge),
    teacher: client(models.teacher),
    embedder: models.embedder ? client(models.embedder) : null,
  };
}
