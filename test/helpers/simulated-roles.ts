import type { Db } from '../../db/connection.js';
import type { LlmRoles } from '../../llm/llm-client.js';
import { createLlmRoles } from '../../llm/llm-roles.js';
import { SIMULATED_MODELS } from '../simulator/simulator-server.js';

/** The four model roles pointed at a running simulator, through the product's own OpenAI client. */
export function simulatedRoles(simulatorUrl: string, db: Db): LlmRoles {
  const endpoint = (model: string) => ({ baseUrl: simulatorUrl, model, apiKey: 'test' });
  return createLlmRoles(
    {
      agent: endpoint(SIMULATED_MODELS.agent),
      judge: endpoint(SIMULATED_MODELS.judge),
      teacher: endpoint(SIMULATED_MODELS.teacher),
      embedder: endpoint(SIMULATED_MODELS.embedder),
    },
    db,
  );
}
