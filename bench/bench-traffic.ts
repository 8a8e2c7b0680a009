import { FlywheelClient } from '../client/flywheel-client.js';
import type { LlmClient } from '../llm/llm-client.js';
import type { TraceRecord } from '../schemas/trace.js';
import type { Scenario } from '../test/simulator/scenario.js';
import { generateTraffic, resolveWith } from '../test/simulator/traffic.js';

/**
 * One simulated agent's production traffic for bench:flywheel: users resolve the prompt
 * through the API with the TypeScript client (so rollout weights decide which version
 * answers), the simulated agent answers, feedback follows the scenario's noise, and the
 * traces go back through the ingest API with the agent's token. It remembers which
 * scenario example each trace was drawn from: the ground truth the simulated reviewers read.
 */
export class BenchTraffic {
  /** Trace id → scenario example id. */
  readonly exampleOf = new Map<string, string>();
  sent = 0;
  private batches = 0;
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
    this.resolve = resolveWith(
      new FlywheelClient({ baseUrl: options.apiUrl, token: options.token }),
      options.scenario.agentId,
    );
  }

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
