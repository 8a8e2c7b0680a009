import type { ChatTool } from '../llm/llm-client.js';
import type { Candidate } from '../optimizers/prompt-search.js';

/** The system prompt and tools a candidate stands for. */
export function renderCandidate(
  texts: ReadonlyMap<string, string>,
  candidate: Candidate,
  tools: readonly ChatTool[],
): { systemPrompt: string; tools: ChatTool[] } {
  const text = (id: string | undefined) => (id === undefined ? undefined : texts.get(id));
  const system = text(candidate.system) ?? '';
  const demos = text(candidate.demos);
  return {
    systemPrompt: demos ? `${system.trimEnd()}\n\n${demos}` : system,
    tools: tools.map((t) => ({ ...t, description: text(candidate[`tool:${t.name}`]) ?? t.description })),
  };
}
