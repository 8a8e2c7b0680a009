import { AgentAction, type ChatMessage } from '../schemas/trace.js';
import type { ChatMessageIn, ChatTool, LlmClient } from './llm-client.js';

export interface AgentStepInput {
  systemPrompt: string;
  /** The recorded conversation up to the step, without the original system prompt. */
  messages: readonly ChatMessage[];
  /** Few-shot messages (recalled coaching) placed after the system prompt, before the conversation. */
  fewShot?: readonly ChatMessageIn[];
  tools: readonly ChatTool[];
  seed?: number;
}

/**
 * Step replay: re-run the agent's LLM step with a (candidate) system prompt on the
 * recorded messages and tool schemas. No tool executes; the produced step is the result.
 */
export async function runAgentStep(
  client: LlmClient,
  input: AgentStepInput,
  signal?: AbortSignal,
): Promise<{ step: AgentAction; tokens: number; cached: boolean }> {
  const response = await client.chat(
    {
      messages: [
        { role: 'system', content: input.systemPrompt },
        ...(input.fewShot ?? []),
        ...input.messages
          .filter((m) => m.role !== 'system')
          .map((m) => ({ role: m.role, content: m.content ?? '' })),
      ],
      tools: [...input.tools],
      temperature: 0,
      ...(input.seed === undefined ? {} : { seed: input.seed }),
    },
    signal,
  );
  const tokens = response.usage.promptTokens + response.usage.completionTokens;
  const call = response.toolCalls[0];
  if (call) {
    let args: unknown = {};
    try {
      args = JSON.parse(call.arguments || '{}');
    } catch {
      // A model that emits invalid JSON arguments made a wrong step; keep the raw text for the judge.
      args = { _raw: call.arguments };
    }
    const parsed = AgentAction.safeParse({ action: call.name, arguments: args });
    return {
      step: parsed.success ? parsed.data : { action: call.name, arguments: {} },
      tokens,
      cached: response.cached,
    };
  }
  return {
    step: { action: 'respond', arguments: {}, content: response.content ?? '' },
    tokens,
    cached: response.cached,
  };
}
