import { z } from 'zod';
import { OptimizerChoice } from './optimizer-config.js';

export const ToolSchema = z.object({
  name: z.string().min(1),
  description: z.string(),
  parameters: z.record(z.string(), z.unknown()),
});

/** Stored in agents.config; what step replay needs to re-run the agent's LLM step. */
export const AgentConfig = z.object({
  tools: z.array(ToolSchema).default([]),
  /** The optimizer this agent's cycles use and its settings; GEPA with defaults when absent. */
  optimizer: OptimizerChoice.optional(),
});
export type AgentConfig = z.infer<typeof AgentConfig>;
