import { z } from 'zod';

/**
 * The prompt registry's boundary payloads, in the shape Langfuse users know: a prompt is a
 * name with immutable numbered versions; labels are movable pointers; `latest` is implicit.
 * The TypeScript client imports these, so they depend on nothing but zod.
 */

/** Same alphabet as agent ids: an agent's system prompt is the prompt named after the agent. */
export const PromptName = z
  .string()
  .max(128, 'prompt names are at most 128 characters')
  .regex(/^[A-Za-z0-9._-]+$/, 'prompt names use letters, digits, dot, dash and underscore');

export const LABEL_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/;
/** `latest` always means the highest version; it cannot be moved. */
export const IMPLICIT_LABEL = 'latest';

export const LabelName = z
  .string()
  .max(64, 'labels are at most 64 characters')
  .regex(
    LABEL_PATTERN,
    'labels are lower-case letters, digits, "_", "." and "-", starting with a letter or digit',
  );

/** A label an operator may point somewhere: any valid name but the implicit `latest`. */
export const MovableLabel = LabelName.refine((l) => l !== IMPLICIT_LABEL, {
  message: '"latest" always points at the highest version and cannot be moved; use another label',
});

export const ChatMessage = z.object({
  role: z.string().min(1, 'every chat message needs a role'),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const PromptType = z.enum(['text', 'chat']);
export type PromptType = z.infer<typeof PromptType>;

/** A string for text prompts, a message list for chat prompts. */
export const PromptBody = z.union([z.string(), z.array(ChatMessage)]);
export type PromptBody = z.infer<typeof PromptBody>;

/**
 * Tool descriptions a version gives the agent's tools, by tool name. A release carries the
 * descriptions the optimizer changed here (as Langfuse keeps tool config beside the prompt);
 * a tool not named keeps the description the agent already has.
 */
export const ToolDescriptions = z.record(
  z.string().min(1, 'tool names in toolDescriptions cannot be empty'),
  z.string().regex(/\S/, 'a tool description in toolDescriptions cannot be blank'),
);
export type ToolDescriptions = z.infer<typeof ToolDescriptions>;

/**
 * Model parameters and anything else the agent reads next to the prompt. Flywheel reads two
 * keys and passes every other one through: `toolDescriptions` (above) and `demos`, a block of
 * worked examples the agent appends to its system prompt (see `promptForAgent`).
 */
export const PromptConfig = z.looseObject({
  toolDescriptions: ToolDescriptions.optional(),
  demos: z.string().regex(/\S/, 'demos cannot be blank; leave the key out instead').optional(),
});
export type PromptConfig = z.infer<typeof PromptConfig>;

const Actor = z.string().trim().min(1, 'name who does this (actor), e.g. your user name');

const CreateCommon = {
  name: PromptName,
  /** The owning agent; defaults to the prompt's existing owner, or to `name` if it is an agent id. */
  agent: z.string().min(1).optional(),
  config: PromptConfig.default({}),
  labels: z.array(MovableLabel).default([]),
  tags: z.array(z.string().trim().min(1).max(64)).max(50).default([]),
  commitMessage: z.string().max(2000).optional(),
  actor: Actor,
};

export const CreatePromptRequest = z.discriminatedUnion('type', [
  z.object({
    ...CreateCommon,
    type: z.literal('text'),
    prompt: z.string().min(1, 'a text prompt needs non-empty text'),
  }),
  z.object({
    ...CreateCommon,
    type: z.literal('chat'),
    prompt: z.array(ChatMessage).min(1, 'a chat prompt needs at least one message'),
  }),
]);
export type CreatePromptRequest = z.input<typeof CreatePromptRequest>;

export const SetLabelRequest = z.object({
  label: MovableLabel,
  version: z.number().int().positive(),
  actor: Actor,
  reason: z.string().max(2000).optional(),
});

export const RollbackRequest = z.object({
  label: MovableLabel.default('production'),
  /** The version to go back to; default: where the label pointed before its last move. */
  to: z.number().int().positive().optional(),
  actor: Actor,
  reason: z.string().trim().min(1, 'say why you roll back (reason)').max(2000),
});

/** One version as GET /api/prompts/:name returns it. */
export const PromptRecord = z.object({
  id: z.string(),
  name: z.string(),
  agent: z.string(),
  type: PromptType,
  prompt: PromptBody,
  config: PromptConfig,
  version: z.number().int().positive(),
  labels: z.array(z.string()),
  tags: z.array(z.string()),
  commitMessage: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
});
export type PromptRecord = z.infer<typeof PromptRecord>;

/** What an agent gets from GET /api/prompts/:name/resolve?unit=KEY. */
export const ResolvedPrompt = z.object({
  name: z.string(),
  version: z.number().int().positive(),
  promptVersionId: z.string(),
  type: PromptType,
  prompt: PromptBody,
  config: PromptConfig,
  /** The registry label the served version is reached through. */
  label: z.enum(['production', 'candidate']),
  /** The rollout arm (same values as `label`; kept for clients written before labels). */
  variant: z.enum(['production', 'candidate']),
  rolloutId: z.string().nullable(),
  /** The candidate's share of units in percent (0 without a running rollout). */
  weight: z.number().min(0).max(100),
});
export type ResolvedPrompt = z.infer<typeof ResolvedPrompt>;

/** A tool as an agent hands it to its model; only `name` and `description` are read here. */
export interface AgentTool {
  name: string;
  description?: string | undefined;
}

/** The system prompt a served body stands for: the text, or a chat prompt's system messages. */
export function systemTextOf(prompt: PromptBody): string {
  if (typeof prompt === 'string') return prompt;
  return prompt
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n\n');
}

/** The agent's tools with the descriptions a version's config gives them (by name). */
export function withToolDescriptions<T extends AgentTool>(
  tools: readonly T[],
  config: Pick<PromptConfig, 'toolDescriptions'>,
): T[] {
  const given = config.toolDescriptions ?? {};
  return tools.map((t) => {
    const description = Object.hasOwn(given, t.name) ? given[t.name] : undefined;
    return description === undefined ? t : { ...t, description };
  });
}

/**
 * Everything a served version changes in the agent, applied: the system prompt (with the
 * version's demos appended, as the optimizer rendered them when it gated the candidate) and
 * the agent's own tool list with the version's descriptions. The same rule serves resolve's
 * clients, the rollout's replay and the simulator, so what is served is what was gated.
 */
export function promptForAgent<T extends AgentTool>(
  served: { prompt: PromptBody; config: PromptConfig },
  tools: readonly T[],
): { systemPrompt: string; tools: T[] } {
  const system = systemTextOf(served.prompt);
  const demos = served.config.demos;
  return {
    systemPrompt: demos ? `${system.trimEnd()}\n\n${demos}` : system,
    tools: withToolDescriptions(tools, served.config),
  };
}
