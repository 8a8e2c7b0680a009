/** The narrow interface activities use; the OpenAI-compatible implementation sits behind it. */
export interface ChatMessageIn {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** A participant name: few-shot examples are system messages named `example_user` / `example_assistant`. */
  name?: string;
}

export interface ChatTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface ChatRequest {
  messages: ChatMessageIn[];
  tools?: ChatTool[];
  /** Ask for structured output validated against this JSON schema. */
  jsonSchema?: { name: string; schema: Record<string, unknown> };
  temperature?: number;
  seed?: number;
  /**
   * An answer still off `jsonSchema` after the client's repair round: 'retry' (default) returns
   * it uncached, so asking again asks the model again (a sampled or cut-short answer may heal);
   * 'cache' caches it like any answer, for a caller that repairs it with its own follow-up
   * request (the rubric judge, at temperature 0): asking again would pay for the same answer.
   */
  offSchema?: 'retry' | 'cache';
}

export interface ChatResponse {
  content: string | null;
  toolCalls: { name: string; arguments: string }[];
  usage: { promptTokens: number; completionTokens: number };
  /** True when served from the Postgres response cache (no tokens spent). */
  cached: boolean;
}

export interface LlmClient {
  readonly model: string;
  chat(request: ChatRequest, signal?: AbortSignal): Promise<ChatResponse>;
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

export type LlmRole = 'agent' | 'judge' | 'teacher' | 'embedder';
/** The embedder is optional: without one, diagnosis embeds failures with a local TF-IDF. */
export type LlmRoles = Record<Exclude<LlmRole, 'embedder'>, LlmClient> & { embedder: LlmClient | null };
