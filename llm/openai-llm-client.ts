import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../schemas/failure-types.js';
import OpenAI from 'openai';
import { Ajv, type ValidateFunction } from 'ajv';
import type { Db } from '../db/connection.js';
import { isDatabaseUnavailable } from '../db/database-unavailable.js';
import type { ModelEndpoint } from '../schemas/config.js';
import type { ChatRequest, ChatResponse, LlmClient } from './llm-client.js';
import pLimit, { type LimitFunction } from 'p-limit';
import { cachedResponse, storeResponse } from './store/llm-cache.js';
import { toolCallInContent } from './tool-call-in-content.js';
import { CircuitBreaker, DEFAULT_CIRCUIT_BREAKER } from './circuit-breaker.js';

/** The default time one request may take (FLYWHEEL_LLM_TIMEOUT_SECONDS overrides it). */
export const DEFAULT_LLM_TIMEOUT_SECONDS = 120;
/**
 * The temperature of the last attempt after a server error. A server can fail on the output
 * its model sampled (llama.cpp answers 500 "the model produced output that does not match
 * the expected format" when a tool call does not parse); at temperature 0 the same request
 * fails the same way every time, so repeating it verbatim cannot heal.
 */
export const RESAMPLE_TEMPERATURE = 0.7;

const ajv = new Ajv({ strict: false, allErrors: true });
const validators = new Map<string, ValidateFunction>();

/** Why `content` is not an instance of `schema`, or null when it is. */
function offSchema(schema: Record<string, unknown>, content: string | null): string | null {
  let json: unknown;
  try {
    json = JSON.parse(content ?? '');
  } catch {
    return `not JSON: ${String(content).slice(0, 200)}`;
  }
  const key = JSON.stringify(schema);
  let validate = validators.get(key);
  if (!validate) {
    try {
      validate = ajv.compile(schema);
    } catch {
      return null; // a schema this validator cannot read is left to the caller's own check
    }
    validators.set(key, validate);
  }
  if (validate(json)) return null;
  return ajv.errorsText(validate.errors, { dataVar: 'answer' }).slice(0, 400);
}

type ChatBody = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
type Answer = Omit<ChatResponse, 'cached'>;

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

/** A failure that says the model is unwell: overloaded, erroring, unreachable or too slow. */
function isModelFault(error: unknown): boolean {
  if (error instanceof OpenAI.APIConnectionError) return true; // includes timeouts
  return (
    error instanceof OpenAI.APIError &&
    error.status !== undefined &&
    (error.status === 429 || error.status >= 500)
  );
}

/** How long a paid answer waits for the database to take it before the call fails anyway. */
export const CACHE_WRITE_PATIENCE_MS = 60_000;

/**
 * Stores a paid answer, waiting out a database that is away (a restart, a failover, a
 * terminated connection) instead of failing at once: the answer is already paid for, and if it
 * is not cached the retried activity pays for it again. Any other error fails the call as before.
 */
async function storePaidAnswer(db: Db, key: string, value: unknown, patienceMs = CACHE_WRITE_PATIENCE_MS) {
  const deadline = Date.now() + patienceMs;
  for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
    try {
      return await storeResponse(db, key, value);
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() + wait > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/**
 * Chat Completions and Embeddings through the `openai` package against any
 * OpenAI-compatible URL. Responses are cached in Postgres by a hash of the whole request,
 * so a retried activity does not pay twice for calls that already succeeded.
 */
export class OpenAiLlmClient implements LlmClient {
  private readonly client: OpenAI;
  readonly model: string;
  /** Requests in flight to this endpoint, across every activity of the process. */
  private readonly limit: LimitFunction;
  private readonly breaker: CircuitBreaker;
  /** Identical requests in flight share one answer, so concurrent retries pay once. */
  private readonly inflight = new Map<string, Promise<{ value: unknown; cached: boolean }>>();

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
      timeout: (endpoint.timeoutSeconds ?? DEFAULT_LLM_TIMEOUT_SECONDS) * 1000,
    });
    this.limit = pLimit(endpoint.maxConcurrency ?? Number.POSITIVE_INFINITY);
    this.breaker = new CircuitBreaker({
      failureThreshold: endpoint.circuitBreaker?.failureThreshold ?? DEFAULT_CIRCUIT_BREAKER.failureThreshold,
      cooldownMs:
        (endpoint.circuitBreaker?.cooldownSeconds ?? DEFAULT_CIRCUIT_BREAKER.cooldownMs / 1000) * 1000,
    });
  }

  /**
   * One HTTP call, under the endpoint's concurrency limit and circuit breaker. While the
   * circuit is open the call fails at once, retryably, with the time to wait, so activities
   * back off together instead of each spending its retries on a model that is down.
   */
  private async guarded<T>(call: () => Promise<T>): Promise<T> {
    const decision = this.breaker.request(Date.now());
    if (!decision.allowed) {
      throw ApplicationFailure.create({
        message:
          `model ${this.model} failed ${decision.failures} times in a row (overloaded, erroring or unreachable); ` +
          `calls are paused for ${Math.ceil(decision.retryInMs / 1000)} s, then one probe goes out`,
        type: FailureType.LlmUnavailable,
        nextRetryDelay: decision.retryInMs,
      });
    }
    try {
      const value = await this.limit(call);
      this.breaker.success();
      return value;
    } catch (error) {
      // A bad request proves the server answers; only faults of the model count.
      if (isModelFault(error)) this.breaker.failure(Date.now());
      else if (error instanceof OpenAI.APIError) this.breaker.success();
      throw error;
    }
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

  /** `storable` false: the answer is returned but not cached, so a retry asks again. */
  private async cached<T>(
    key: string,
    call: () => Promise<T>,
    storable: (value: T) => boolean = () => true,
  ): Promise<{ value: T; cached: boolean }> {
    const shared = this.inflight.get(key);
    if (shared) return (await shared) as { value: T; cached: boolean };
    const answer = (async () => {
      if (this.db) {
        const hit = await cachedResponse(this.db, key);
        if (hit) return { value: hit.response as T, cached: true };
      }
      const value = await call();
      if (this.db && storable(value)) await storePaidAnswer(this.db, key, value);
      return { value, cached: false };
    })();
    this.inflight.set(key, answer);
    try {
      return await answer;
    } finally {
      this.inflight.delete(key);
    }
  }

  private async complete(body: ChatBody, declared: readonly string[], signal?: AbortSignal): Promise<Answer> {
    const completion = await this.guarded(() =>
      this.client.chat.completions.create(body, { signal: OpenAiLlmClient.share(signal) }),
    );
    const message = completion.choices[0]?.message;
    const toolCalls = (message?.tool_calls ?? []).flatMap((c) =>
      c.type === 'function' ? [{ name: c.function.name, arguments: c.function.arguments }] : [],
    );
    const inContent = toolCalls.length === 0 ? toolCallInContent(message?.content ?? null, declared) : null;
    return {
      content: inContent ? null : (message?.content ?? null),
      toolCalls: inContent ? [inContent] : toolCalls,
      usage: {
        promptTokens: completion.usage?.prompt_tokens ?? 0,
        completionTokens: completion.usage?.completion_tokens ?? 0,
      },
    };
  }

  /** One answer; after a server error (the SDK's own retries spent), one resampled attempt. */
  private async answer(body: ChatBody, declared: readonly string[], signal?: AbortSignal): Promise<Answer> {
    try {
      return await this.complete(body, declared, signal);
    } catch (error) {
      if (!(error instanceof OpenAI.APIError) || error.status === undefined || error.status < 500)
        throw toFailure(error, this.model);
      const resampled = {
        ...body,
        temperature: Math.max(body.temperature ?? 0, RESAMPLE_TEMPERATURE),
        seed: (body.seed ?? 0) + 1,
      };
      try {
        return await this.complete(resampled, declared, signal);
      } catch (again) {
        throw toFailure(again, this.model);
      }
    }
  }

  async chat(request: ChatRequest, signal?: AbortSignal): Promise<ChatResponse> {
    const body: ChatBody = {
      model: this.model,
      messages: request.messages.map((m) =>
        m.role === 'tool'
          ? { role: 'user' as const, content: m.content }
          : { role: m.role, content: m.content, ...(m.name ? { name: m.name } : {}) },
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
    const declared = (request.tools ?? []).map((t) => t.name);
    const schema = request.jsonSchema?.schema;
    const { value, cached } = await this.cached(
      this.cacheKey('chat', body),
      async () => {
        const first = await this.answer(body, declared, signal);
        const problem = schema ? offSchema(schema, first.content) : null;
        if (!problem) return first;
        // Structured output that a server does not enforce (or cut short): one repair round
        // with the validation error. An answer still off its schema goes back uncached unless
        // the caller repairs it itself (request.offSchema).
        const repaired = await this.answer(
          {
            ...body,
            messages: [
              ...body.messages,
              { role: 'assistant', content: first.content ?? '' },
              {
                role: 'user',
                content: `Your answer does not match the required JSON schema (${problem}). Reply again with only the corrected JSON object.`,
              },
            ],
          },
          declared,
          signal,
        );
        return {
          ...repaired,
          usage: {
            promptTokens: first.usage.promptTokens + repaired.usage.promptTokens,
            completionTokens: first.usage.completionTokens + repaired.usage.completionTokens,
          },
        };
      },
      (answer) => !schema || request.offSchema === 'cache' || offSchema(schema, answer.content) === null,
    );
    return { ...value, cached };
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    // Floats, asked for explicitly: the SDK otherwise requests base64 and decodes it, which
    // OpenAI-compatible servers that ignore encoding_format (and answer floats) break.
    const body = { model: this.model, input: texts, encoding_format: 'float' as const };
    const { value } = await this.cached(this.cacheKey('embed', body), async () => {
      try {
        const result = await this.guarded(() =>
          this.client.embeddings.create(body, { signal: OpenAiLlmClient.share(signal) }),
        );
        return result.data.sort((a, b) => a.index - b.index).map((d) => d.embedding);
      } catch (error) {
        throw toFailure(error, this.model);
      }
    });
    return value;
  }
}
