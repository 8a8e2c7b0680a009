import { z } from 'zod';

export const ToolSchema = z.object({
  name: z.string().min(1),
  description: z.string(),
  parameters: z.record(z.string(), z.unknown()),
});

/** Stored in agents.config; what step replay needs to re-run the agent's LLM step. */
export const AgentConfig = z.object({
  tools: z.array(ToolSchema).default([]),
});
export type AgentConfig = z.infer<typeof AgentConfig>;
