import { FlywheelClient } from '../client/flywheel-client.js';
import type { LlmClient } from '../llm/llm-client.js';
import { unitInterval } from '../optimizers/stable-hash.js';
import type { Scenario } from '../test/simulator/scenario.js';
import { generateTraffic, recallWith, resolveWith } from '../test/simulator/traffic.js';

// Real users word the same need differently. The scenario has a few dozen requests, so
// verbatim repeats made every new trace an exact copy of one an optimizer had already
// trained on: decontamination rightly kept them all out of eval, and from the second cycle
// on the gate had no fresh examples to measure an improvement on. None of these words is a
// rule's symptom, so the simulated judge and teacher read the same request.
const OPENINGS = [
  '',
  'Hi there.',
  'Hello!',
  'Good morning.',
  'Hey, quick question.',
  'Hi, I need some help today.',
  'Hello, I have been waiting a while.',
  'Evening!',
];
const CLOSINGS = [
  '',
  'Thanks.',
  'Thank you so much!',
  'I am at the airport right now.',
  'Please be quick, my flight is soon.',
  'Appreciate it.',
  'Let me know what you need from me.',
  'Cheers.',
];

/** One user's wording of a request: an opening and a closing picked by the trace key. */
export function userPhrasing(request: string, key: string): string {
  const pick = (list: readonly string[], salt: string) =>
    list[Math.floor(unitInterval(`${salt}|${key}`, 17) * list.length)]!;
  return [pick(OPENINGS, 'open'), request, pick(CLOSINGS, 'close')].filter(Boolean).join(' ');
}

/**
 * Prints each distinct failure once: a retried round is normal, but a failure that repeats
 * (a token without the resolve scope, an API that refuses every request) must not go
 * unseen while a rollout waits for traffic that never arrives.
 */
function reportOnce(): (e: unknown) => void {
  const seen = new Set<string>();
  return (e) => {
    const message = e instanceof Error ? e.message : String(e);
    if (seen.has(message) || seen.size > 20) return;
    seen.add(message);
    console.error(`demo traffic: ${message} (retrying; each distinct failure is printed once)`);
  };
}

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
  onError: (e: unknown) => void = reportOnce(),
) {
  let running = true;
  let round = 0;
  let sent = 0;
  const client = new FlywheelClient({ baseUrl: apiUrl, token });
  const resolve = resolveWith(client, scenario.agentId);
  // The demo's users are served coaching as a deployed agent recalls it after resolve.
  const coach = recallWith(client, scenario.agentId);
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
          phrase: userPhrasing,
          coach,
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
