import type { ChatTool } from '../llm/llm-client.js';
import type { Candidate } from '../optimizers/prompt-search.js';
import { promptForAgent } from '../schemas/prompt.js';

/**
 * The system prompt and tools a candidate stands for, by the same rule resolve's clients
 * apply to a released version (demos appended, tool descriptions by name), so what the gate
 * evaluated is what a release serves.
 */
export function renderCandidate(
  texts: ReadonlyMap<string, string>,
  candidate: Candidate,
  tools: readonly ChatTool[],
): { systemPrompt: string; tools: ChatTool[] } {
  const text = (id: string | undefined) => (id === undefined ? undefined : texts.get(id));
  const toolDescriptions: Record<string, string> = {};
  for (const t of tools) {
    const description = text(candidate[`tool:${t.name}`]);
    if (description !== undefined) toolDescriptions[t.name] = description;
  }
  const demos = text(candidate.demos);
  return promptForAgent(
    { prompt: text(candidate.system) ?? '', config: { toolDescriptions, ...(demos ? { demos } : {}) } },
    tools,
  );
}
