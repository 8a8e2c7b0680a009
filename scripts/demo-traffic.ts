import { FlywheelClient } from '../client/flywheel-client.js';
import type { LlmClient } from '../llm/llm-client.js';
import type { Scenario } from '../test/simulator/scenario.js';
import { generateTraffic, resolveWith } from '../test/simulator/traffic.js';

/**
 * Simulated users hitting the agent through the HTTP API: resolve a prompt by unit key,
 * answer with the simulated agent, post the trace as JSONL with the agent's ingest token. Gives rollout analysis live
 * traffic in the demo and in tests. A failed round is reported and retried, not fatal.
 */
export function startDemoTraffic(
  apiUrl: string,
  token: string,
  scenario: Scenario,
  agent: LlmClient,
  batch = 10,
  everyMs = 200,
  onError: (e: unknown) => void = () => undefined,
) {
  let running = true;
  let round = 0;
  let sent = 0;
  const resolve = resolveWith(new FlywheelClient({ baseUrl: apiUrl, token }), scenario.agentId);
  const loop = (async () => {
    while (running) {
      try {
        const records = await generateTraffic({
          scenario,
          agent,
          resolve,
          count: batch,
          start: new Date(),
          spacingMs: 1,
          seed: 99,
          idPrefix: `live-${Date.now()}-${round++}`,
        });
        const res = await fetch(`${apiUrl}/api/traces`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
          body: records.map((r) => JSON.stringify(r)).join('\n'),
        });
        if (!res.ok) throw new Error(`ingest failed: ${res.status} ${await res.text()}`);
        sent += records.length;
      } catch (error) {
        onError(error);
      }
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
