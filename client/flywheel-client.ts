import { ResolvedPrompt } from '../schemas/prompt.js';
import {
  COACHING_TRACE_ATTRIBUTE,
  RecallAnswer,
  type FewShotMessage,
  type RecallMessage,
} from '../schemas/coaching.js';

/**
 * A small client for agents written in TypeScript: which prompt version to use for a unit
 * (user, session, account), how to apply all of it (system prompt, demos, tool descriptions)
 * to the agent, and the trace attributes that report the served version, so online metrics
 * split by version. Depends on nothing but the registry's zod schemas.
 */

/**
 * `promptForAgent(served, tools)`: the served version's system prompt (demos appended) and the
 * agent's own tool list with the version's descriptions; `withToolDescriptions` applies only
 * the descriptions. A release that changed only tool descriptions changes nothing for an agent
 * that uses `served.prompt` alone.
 */
export { promptForAgent, withToolDescriptions, type AgentTool } from '../schemas/prompt.js';

export interface FlywheelClientOptions {
  /** The Flywheel API, e.g. http://localhost:8080 */
  baseUrl: string;
  /** An agent token (`flywheel token create`), sent as a bearer token when given. */
  token?: string;
  fetch?: typeof fetch;
  /** Resolved answers kept locally (per prompt and unit); the oldest go first. */
  cacheSize?: number;
  now?: () => number;
}

/** An answer the server refused, with its status and message. */
export class FlywheelError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'FlywheelError';
  }
}

interface CacheEntry {
  value: ResolvedPrompt;
  etag: string | null;
  expiresAt: number;
}

export type CoachingTraceAttributes = { [COACHING_TRACE_ATTRIBUTE]: string[] };

/**
 * The conversation with the recalled coaching inserted after its leading system messages
 * (the system prompt), before the first turn, which is where few-shot examples go.
 */
export function withCoaching<M extends { role: string }>(
  messages: readonly M[],
  recalled: Pick<RecallAnswer, 'messages'>,
): (M | FewShotMessage)[] {
  const at = messages.findIndex((m) => m.role !== 'system');
  const split = at === -1 ? messages.length : at;
  return [...messages.slice(0, split), ...recalled.messages, ...messages.slice(split)];
}

export type PromptTraceAttributes = {
  'flywheel.prompt.name': string;
  'flywheel.prompt.version': number;
};

function maxAgeSeconds(cacheControl: string | null): number {
  const m = /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl ?? '');
  return m ? Number(m[1]) : 0;
}

export class FlywheelClient {
  private readonly baseUrl: string;
  private readonly doFetch: typeof fetch;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly cacheSize: number;
  private readonly now: () => number;

  constructor(private readonly options: FlywheelClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.doFetch = options.fetch ?? fetch;
    this.cacheSize = options.cacheSize ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * The version `unitKey` gets (sticky during a rollout): its prompt and its config, whose
   * `toolDescriptions` and `demos` are part of the version (apply them with
   * `promptForAgent`). Answers are reused for the server's max-age, then revalidated with
   * their ETag, so a steady agent mostly gets 304s.
   */
  async resolvePrompt(name: string, unitKey: string): Promise<ResolvedPrompt> {
    const key = `${name}\u0000${unitKey}`;
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.value;
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (cached?.etag) headers['if-none-match'] = cached.etag;
    const url = `${this.baseUrl}/api/prompts/${encodeURIComponent(name)}/resolve?unit=${encodeURIComponent(unitKey)}`;
    const res = await this.doFetch(url, { headers });
    const expiresAt = this.now() + maxAgeSeconds(res.headers.get('cache-control')) * 1000;
    if (res.status === 304 && cached) {
      await res.arrayBuffer().catch(() => undefined);
      this.remember(key, { ...cached, expiresAt });
      return cached.value;
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new FlywheelError(`resolve ${name} failed (HTTP ${res.status}): ${message}`, res.status);
    }
    const value = ResolvedPrompt.parse(JSON.parse(text));
    this.remember(key, { value, etag: res.headers.get('etag'), expiresAt });
    return value;
  }

  /**
   * OTLP resource or span attributes naming the served version; set them on the agent's
   * spans (`span.setAttributes(...)`) and Flywheel's ingest files each trace under it. A
   * version is immutable and includes its config, so a release that changed only tool
   * descriptions is told apart from production by its number.
   */
  traceAttributes(resolved: Pick<ResolvedPrompt, 'name' | 'version'>): PromptTraceAttributes {
    return { 'flywheel.prompt.name': resolved.name, 'flywheel.prompt.version': resolved.version };
  }

  /**
   * The coaching memories the conversation so far is in the situation of, as few-shot
   * messages (insert them with `withCoaching`) and the ids to report on the trace
   * (`coachingTraceAttributes`). Not cached: every turn is a new situation. Pass the
   * `promptVersionId` resolve served the conversation: while a staged rollout carries a
   * coaching set, the conversations its candidate version answers recall the set too.
   */
  async recallCoaching(
    agent: string,
    messages: readonly RecallMessage[],
    options: { k?: number; maxTokens?: number; promptVersionId?: string } = {},
  ): Promise<RecallAnswer> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const res = await this.doFetch(
      `${this.baseUrl}/api/agents/${encodeURIComponent(agent)}/coaching/recall`,
      { method: 'POST', headers, body: JSON.stringify({ messages, ...options }) },
    );
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new FlywheelError(
        `coaching recall for ${agent} failed (HTTP ${res.status}): ${message}`,
        res.status,
      );
    }
    return RecallAnswer.parse(JSON.parse(text));
  }

  /**
   * The trace attribute naming the coaching applied (`id@version` each); set it with the
   * prompt attributes and Flywheel's ingest keeps it on the trace. Empty when none applied.
   */
  coachingTraceAttributes(
    recalled: Pick<RecallAnswer, 'traceIds'>,
  ): CoachingTraceAttributes | Record<string, never> {
    return recalled.traceIds.length === 0 ? {} : { [COACHING_TRACE_ATTRIBUTE]: [...recalled.traceIds] };
  }

  private remember(key: string, entry: CacheEntry): void {
    // Re-inserting moves the key to the end: the Map's order is the eviction order.
    this.cache.delete(key);
    this.cache.set(key, entry);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }
}
