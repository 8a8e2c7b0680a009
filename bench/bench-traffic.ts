import { FlywheelClient, withCoaching } from '../client/flywheel-client.js';
import type { LlmClient } from '../llm/llm-client.js';
import type { RecallMessage } from '../schemas/coaching.js';
import type { TraceRecord } from '../schemas/trace.js';
import type { Scenario } from '../test/simulator/scenario.js';
import { generateTraffic, resolveWith, type ServedPrompt } from '../test/simulator/traffic.js';

/**
 * One simulated agent's production traffic for bench:flywheel: users resolve the prompt
 * through the API with the TypeScript client (so rollout weights decide which version
 * answers), the simulated agent answers, feedback follows the scenario's noise, and the
 * traces go back through the ingest API with the agent's token. Like a deployed agent, each
 * conversation recalls coaching after resolve (`recallCoaching` with the served version's
 * id, so a rollout's coaching set reaches its candidate share only), inserts it after the
 * system prompt and names it on the trace (`coachingTraceAttributes`); an agent without
 * coaching recalls nothing. It remembers which scenario example each trace was drawn from:
 * the ground truth the simulated reviewers read.
 */
export class BenchTraffic {
  /** Trace id → scenario example id. */
  readonly exampleOf = new Map<string, string>();
  sent = 0;
  /** Traces whose conversation recalled coaching (any version served). */
  coached = 0;
  private batches = 0;
  private readonly client: FlywheelClient;
  private readonly resolve: ReturnType<typeof resolveWith>;

  constructor(
    private readonly options: {
      apiUrl: string;
      token: string;
      scenario: Scenario;
      agent: LlmClient;
      seed: number;
      idPrefix: string;
    },
  ) {
    this.client = new FlywheelClient({ baseUrl: options.apiUrl, token: options.token });
    this.resolve = resolveWith(this.client, options.scenario.agentId);
  }

  /** Recall as the agent does it: the conversation so far and the version resolve served. */
  private readonly coach = async (messages: readonly RecallMessage[], served: ServedPrompt) => {
    const recalled = await this.client.recallCoaching(
      this.options.scenario.agentId,
      messages,
      served.promptVersionId ? { promptVersionId: served.promptVersionId } : {},
    );
    if (recalled.traceIds.length > 0) this.coached++;
    // `withCoaching` puts them after the system prompt; the agent step takes them there as `fewShot`.
    return {
      fewShot: withCoaching([], recalled),
      attributes: this.client.coachingTraceAttributes(recalled),
    };
  };

  /** `count` traces, stamped over the last `count` milliseconds so that they are in the past. */
  async send(count: number, batchSize = 250): Promise<void> {
    for (let done = 0; done < count; done += batchSize) {
      const n = Math.min(batchSize, count - done);
      const records = await generateTraffic({
        scenario: this.options.scenario,
        agent: this.options.agent,
        resolve: this.resolve,
        count: n,
        start: new Date(Date.now() - n),
        spacingMs: 1,
        seed: this.options.seed,
        idPrefix: `${this.options.idPrefix}-b${this.batches++}`,
        coach: this.coach,
      });
      await this.post(records);
    }
  }

  /** Keeps sending `perSecond` traces a second (in small batches) until stopped. */
  live(perSecond: number, onError: (e: unknown) => void): { stop(): Promise<void> } {
    let running = true;
    const everyMs = 250;
    const batch = Math.max(1, Math.round((perSecond * everyMs) / 1000));
    const loop = (async () => {
      while (running) {
        const started = Date.now();
        try {
          await this.send(batch, batch);
        } catch (error) {
          onError(error);
        }
        await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - started))));
      }
    })();
    return {
      async stop() {
        running = false;
        await loop;
      },
    };
  }

  private async post(records: TraceRecord[]): Promise<void> {
    const res = await fetch(`${this.options.apiUrl}/api/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.options.token}` },
      body: records.map((r) => JSON.stringify(r)).join('\n'),
    });
    if (!res.ok) throw new Error(`ingest failed: HTTP ${res.status} ${await res.text()}`);
    await res.arrayBuffer().catch(() => undefined);
    for (const r of records) {
      const example = r.attributes?.example;
      if (typeof example === 'string') this.exampleOf.set(r.id, example);
    }
    this.sent += records.length;
  }
}
