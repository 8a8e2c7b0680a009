import type { ChatRequest, ChatResponse, LlmClient } from '../llm/llm-client.js';

/** Calls and tokens so far; bench:flywheel reads them per role and per week. */
export interface LlmUsage {
  calls: number;
  tokens: number;
}

/** Counts every call and token an inner client answers (embedding calls count one each, no tokens). */
export class CountingLlmClient implements LlmClient {
  readonly usage: LlmUsage = { calls: 0, tokens: 0 };

  constructor(private readonly inner: LlmClient) {}

  get model(): string {
    return this.inner.model;
  }

  async chat(request: ChatRequest, signal?: AbortSignal): Promise<ChatResponse> {
    const response = await this.inner.chat(request, signal);
    this.usage.calls++;
    if (!response.cached) this.usage.tokens += response.usage.promptTokens + response.usage.completionTokens;
    return response;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const vectors = await this.inner.embed(texts, signal);
    this.usage.calls++;
    return vectors;
  }
}

/** Usage accumulated between two readings of the same counters. */
export function usageSince(
  now: Record<string, LlmUsage>,
  before: Record<string, LlmUsage>,
): Record<string, LlmUsage> {
  return Object.fromEntries(
    Object.entries(now).map(([role, u]) => [
      role,
      { calls: u.calls - (before[role]?.calls ?? 0), tokens: u.tokens - (before[role]?.tokens ?? 0) },
    ]),
  );
}
