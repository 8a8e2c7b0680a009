import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../schemas/failure-types.js';
import OpenAI from 'openai';
import type { Db } from '../db/connection.js';
import type { ModelEndpoint } from '../schemas/config.js';
import type { ChatRequest, ChatResponse, LlmClient } from './llm-client.js';
import { cachedResponse, storeResponse } from './store/llm-cache.js';

function toFailure(error: unknown, model: string): unknown {
  if (!(error instanceof OpenAI.APIError) || error.status === undefined) return error;
  const what = `model ${model} answered ${error.status}: ${error.message}`;
  if (error.status === 429 || error.status >= 500) {
    const headers = error.headers as Headers | undefined;
    const retryAfter = Number(headers?.get('retry-after'));
    return ApplicationFailure.create({
      message: what,
      type: FailureType.LlmUnavailable,
      nextRetryDelay: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    });
  }
  // Bad requests, auth and unknown models will not heal by retrying: record and stop.
  return ApplicationFailure.nonRetryable(what, FailureType.LlmBadRequest);
}

/**
 * Chat Completions and Embeddings through the `openai` package against any
 * OpenAI-compatible URL. Responses are cached in Postgres by a hash of the whole request,
 * so a retried activity does not pay twice for calls that already succeeded.
 */
export class OpenAiLlmClient implements LlmClient {
  private readonly client: OpenAI;
  readonly model: string;

  constructor(
    private readonly endpoint: ModelEndpoint,
    private readonly db: Db | null,
  ) {
    this.model = endpoint.model;
    // The SDK retries 429/5xx itself honouring Retry-After; Temporal retries what is left.
    this.client = new OpenAI({
      baseURL: endpoint.baseUrl,
      apiKey: endpoint.apiKey,
      maxRetries: 2,
      timeout: 120_000,
    });
  }

  /**
   * The SDK adds an abort listener per request; an activity shares one cancellation signal
   * across its concurrent calls, which would trip Node's listener-leak warning.
   */
  private static share(signal: AbortSignal | undefined): AbortSignal | undefined {
    if (signal) setMaxListeners(0, signal);
    return signal;
  }

  private cacheKey(kind: string, body: unknown): string {
    return createHash('sha256')
      .update(JSON.stringify({ kind, baseUrl: this.endpoint.baseUrl, model: this.model, body }))
      .digest('hex');
  }

  private async cached<T>(key: string, call: () => Promise<T>): Promise<{ value: T; cached: boolean }> {
    if (this.db) {
      const hit = await cachedResponse(this.db, key);
      if (hit) return { value: hit.response as T, cached: true };
    }
    const value = await call();
    if (this.db) await storeResponse(this.db, key, value);
    return { value, cached: false };
  }

  async chat(request: ChatRequest, signal?: AbortSignal): Promise<ChatResponse> {
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model: this.model,
      messages: request.messages.map((m) =>
        m.role === 'tool'
          ? { role: 'user' as const, content: m.content }
          : { role: m.role, content: m.content },
      ),
      temperature: request.temperature ?? 0,
      ...(request.seed === undefined ? {} : { seed: request.seed }),
      ...(request.tools
        ? {
            tools: request.tools.map((t) => ({
              type: 'function' as const,
              function: { name: t.name, description: t.description, parameters: t.parameters },
            })),
          }
        : {}),
      ...(request.jsonSchema
        ? {
            response_format: {
              type: 'json_schema' as const,
              json_schema: { name: request.jsonSchema.name, schema: request.jsonSchema.schema, strict: true },
            },
          }
        : {}),
    };
    const { value, cached } = await this.cached(this.cacheKey('chat', body), async () => {
      try {
        const completion = await this.client.chat.completions.create(body, {
          signal: OpenAiLlmClient.share(signal),
        });
        const message = completion.choices[0]?.message;
        return {
          content: message?.content ?? null,
          toolCalls: (message?.tool_calls ?? []).flatMap((c) =>
            c.type === 'function' ? [{ name: c.function.name, arguments: c.function.arguments }] : [],
          ),
          usage: {
            promptTokens: completion.usage?.prompt_tokens ?? 0,
            completionTokens: completion.usage?.completion_tokens ?? 0,
          },
        };
      } catch (error) {
        throw toFailure(error, this.model);
      }
    });
    return { ...value, cached };
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    // Floats, asked for explicitly: the SDK otherwise requests base64 and decodes it, which
    // OpenAI-compatible servers that ignore encoding_format (and answer floats) break.
    const body = { model: this.model, input: texts, encoding_format: 'float' as const };
    const { value } = await this.cached(this.cacheKey('embed', body), async () => {
      try {
        const result = await this.client.embeddings.create(body, { signal: OpenAiLlmClient.share(signal) });
        return result.data.sort((a, b) => a.index - b.index).map((d) => d.embedding);
      } catch (error) {
        throw toFailure(error, this.model);
      }
    });
    return value;
  }
}
