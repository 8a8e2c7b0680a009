import type { Db } from '../db/connection.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import { labelledVersion } from '../registry/store/prompt-repository.js';
import { PromptConfig, promptForAgent } from '../schemas/prompt.js';
import { compileRedactor } from '../traces/pii-redaction.js';
import { trainingExport, type ExportFormat, type TrainingExport } from './fine-tune-export.js';

export { FINE_TUNE_DATASET } from './fine-tune-export.js';
import { agentStepsOfExamples, exportVersion, resolveVersion } from './store/dataset-repository.js';

export interface TrainingExportRequest {
  format: ExportFormat;
  clusterStableId?: string | undefined;
  /** `production`: the agent's production prompt as the system message (the default). */
  systemPrompt: 'production' | 'none';
  withoutLineage?: boolean;
}

export interface TrainingExportResult extends TrainingExport {
  datasetVersionId: string;
  agent: string;
}

/**
 * A dataset version as a training file. The tools are the agent's, with the descriptions
 * production serves, so a model trained on the file sees the same tool list it will be
 * served with; the agent's own redaction config masks PII on the way out.
 */
export async function exportTrainingFile(
  db: Db,
  ref: string,
  request: TrainingExportRequest,
): Promise<TrainingExportResult> {
  const version = await resolveVersion(db, ref);
  const agent = version.agent_id;
  const config = await agentConfig(db, agent);
  const production = await labelledVersion(db, agent, 'production');
  const served = production
    ? promptForAgent(
        {
          prompt: production.type === 'chat' && production.messages ? production.messages : production.text,
          config: PromptConfig.parse(production.config ?? {}),
        },
        config.tools,
      )
    : { systemPrompt: '', tools: config.tools };
  const examples = await exportVersion(db, version.id);
  const steps =
    request.format === 'openai-dpo' ? await agentStepsOfExamples(db, version.id) : new Map<string, unknown>();
  const result = trainingExport(
    examples.map((example) => ({ example, agentStep: steps.get(example.id) })),
    {
      format: request.format,
      tools: served.tools,
      systemPrompt:
        request.systemPrompt === 'production' && served.systemPrompt ? served.systemPrompt : undefined,
      redactor: compileRedactor(config.redaction),
      clusterStableId: request.clusterStableId,
      withoutLineage: request.withoutLineage ?? false,
    },
  );
  return { ...result, datasetVersionId: version.id, agent };
}
