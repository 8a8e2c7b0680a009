import { z } from 'zod';

/** What the agent did in one step: a tool call or a text reply (`action: "respond"`). */
export const AgentAction = z.object({
  action: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).default({}),
  content: z.string().optional(),
});
export type AgentAction = z.infer<typeof AgentAction>;

export const ChatMessage = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().nullable().default(''),
  name: z.string().optional(),
  tool_call_id: z.string().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/**
 * One line of the normalized JSONL ingest format. `expected` is the gold outcome when the
 * agent (or a labeller) knows it, as tau-bench's gold actions do; most production traces
 * have none and are judged instead.
 */
export const TraceRecord = z.object({
  id: z.string().min(1).max(200),
  agent: z.string().min(1).max(100),
  promptVersion: z.number().int().positive().optional(),
  sessionId: z.string().optional(),
  userId: z.string().optional(),
  timestamp: z.iso.datetime({ offset: true }),
  input: z.object({ messages: z.array(ChatMessage).min(1) }),
  output: AgentAction,
  expected: AgentAction.optional(),
  feedback: z
    .object({ score: z.union([z.literal(-1), z.literal(0), z.literal(1)]), text: z.string().optional() })
    .optional(),
  outcome: z.enum(['success', 'failure', 'escalated', 'error']).optional(),
  attributes: z.record(z.string(), z.unknown()).default({}),
});
export type TraceRecord = z.infer<typeof TraceRecord>;
export type TraceRecordInput = z.input<typeof TraceRecord>;
