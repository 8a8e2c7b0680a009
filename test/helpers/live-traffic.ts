import type { Scenario } from '../simulator/scenario.js';
import { generateTraffic } from '../simulator/traffic.js';
import type { LlmClient } from '../../llm/llm-client.js';

/**
 * Users hitting the agent through the HTTP API while a rollout runs: resolve a prompt by
 * unit key, answer with the simulated agent, post the trace as JSONL. Stops on `stop()`.
 */
export function startLiveTraffic(apiUrl: string, scenario: Scenario, agent: LlmClient, batch = 10, everyMs = 200) {
  let running = true;
  let round = 0;
  let sent = 0;
  const loop = (async () => {
    while (running) {
      const records = await generateTraffic({
        scenario,
        agent,
        resolve: async (unit) => {
          const res = await fetch(`${apiUrl}/api/prompts/${scenario.agentId}/resolve?unit=${encodeURIComponent(unit)}`);
          const body = (await res.json()) as { version: number; text: string };
          return { version: body.version, text: body.text };
        },
        count: batch,
        start: new Date(),
        spacingMs: 1,
        seed: 99,
        idPrefix: `live-${round++}-${Date.now()}`,
      });
      const res = await fetch(`${apiUrl}/api/traces`, { method: 'POST', body: records.map((r) => JSON.stringify(r)).join('\n') });
      if (!res.ok) throw new Error(`ingest failed: ${res.status} ${await res.text()}`);
      sent += records.length;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    sent: () => sent,
    async stop() {
      running = false;
      await loop;
    },
  };
}
