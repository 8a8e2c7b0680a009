import type { Db } from '../db/connection.js';
import type { ModelRoles } from '../schemas/config.js';
import type { LlmRoles } from './llm-client.js';
import { OpenAiLlmClient } from './openai-llm-client.js';

export function createLlmRoles(models: ModelRoles, db: Db | null): LlmRoles {
  return {
    agent: new OpenAiLlmClient(models.agent, db),
    judge: new OpenAiLlmClient(models.judge, db),
    teacher: new OpenAiLlmClient(models.teacher, db),
    embedder: models.embedder ? new OpenAiLlmClient(models.embedder, db) : null,
  };
}
