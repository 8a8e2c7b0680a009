/**
 * The load generator of bench:coaching, in its own process so it does not share the API
 * server's event loop: `connections` keep-alive HTTP connections, each posting the next
 * recall as soon as the previous answer is read, for `seconds`. Every request is a new
 * conversation in one of the 10,000 situations (its text is distinct, so the server's
 * query-embedding cache never answers). Start, end, the situation asked and whether the
 * answer recalled it go back to the parent over IPC.
 *
 *   forked by bench/coaching-bench.ts with one JSON argument (LoadSettings)
 */
import { Agent, request } from 'node:http';
import { benchCoachingId, requestText, SITUATION_COUNT } from './coaching-situations.js';

export interface LoadSettings {
  url: string;
  /** The agent token (resolve scope) every request sends. */
  token: string;
  agent: string;
  seconds: number;
  connections: number;
  systemPrompt: string;
  seed: number;
}

export interface LoadResult {
  count: number;
  startedAt: Float64Array;
  endedAt: Float64Array;
  /** 1 the situation's coaching was recalled, 0 not, -1 error. */
  recalled: Int8Array;
  /** How many coaching memories each answer held. */
  returned: Int8Array;
  errors: string[];
  cpuMicros: number;
  wallMs: number;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as LoadSettings;
const clock = () => performance.timeOrigin + performance.now();
const agent = new Agent({ keepAlive: true, maxSockets: settings.connections });
const capacity = 2_000_000;
const result: LoadResult = {
  count: 0,
  startedAt: new Float64Array(capacity),
  endedAt: new Float64Array(capacity),
  recalled: new Int8Array(capacity),
  returned: new Int8Array(capacity),
  errors: [],
  cpuMicros: 0,
  wallMs: 0,
};

function post(path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${settings.url}${path}`,
      {
        agent,
        method: 'POST',
        headers: {
          authorization: `Bearer ${settings.token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

let state = settings.seed >>> 0;
/** A cheap LCG over the situations, without Math.random. */
const nextSituation = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state % SITUATION_COUNT;
};

const path = `/api/agents/${encodeURIComponent(settings.agent)}/coaching/recall`;
const cpuStart = process.cpuUsage();
const wallStart = clock();
const deadline = wallStart + settings.seconds * 1000;
await Promise.all(
  Array.from({ length: settings.connections }, async () => {
    while (clock() < deadline && result.count < capacity) {
      const situation = nextSituation();
      const i = result.count++;
      const body = JSON.stringify({
        messages: [
          { role: 'system', content: settings.systemPrompt },
          { role: 'user', content: requestText(situation, i) },
        ],
        k: 3,
        maxTokens: 600,
      });
      result.startedAt[i] = clock();
      try {
        const res = await post(path, body);
        result.endedAt[i] = clock();
        if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
        const answer = JSON.parse(res.body) as { coaching: { id: string }[] };
        result.returned[i] = answer.coaching.length;
        result.recalled[i] = answer.coaching.some((c) => c.id === benchCoachingId(situation)) ? 1 : 0;
      } catch (e) {
        result.endedAt[i] = clock();
        result.recalled[i] = -1;
        if (result.errors.length < 20) result.errors.push(e instanceof Error ? e.message : String(e));
      }
    }
  }),
);
const cpu = process.cpuUsage(cpuStart);
result.cpuMicros = cpu.user + cpu.system;
result.wallMs = clock() - wallStart;
agent.destroy();
const n = result.count;
process.send?.(
  {
    ...result,
    startedAt: result.startedAt.slice(0, n),
    endedAt: result.endedAt.slice(0, n),
    recalled: result.recalled.slice(0, n),
    returned: result.returned.slice(0, n),
  },
  () => process.exit(0),
);
