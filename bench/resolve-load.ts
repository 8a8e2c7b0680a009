/**
 * The load generator of bench:resolve, in its own process so it does not share the API
 * server's event loop: `connections` keep-alive HTTP connections, each sending the next
 * resolve as soon as the previous answer is read, for `seconds`. Every request's start and
 * end (epoch ms, sub-ms), unit and answer go back to the parent over IPC for the checks.
 *
 *   forked by bench/resolve-bench.ts with one JSON argument (LoadSettings)
 */
import { Agent, request } from 'node:http';

export interface LoadSettings {
  url: string;
  /** The agent token (resolve scope) every request sends. */
  token: string;
  name: string;
  seconds: number;
  connections: number;
  units: number;
  seed: number;
}

export interface LoadResult {
  count: number;
  startedAt: Float64Array;
  endedAt: Float64Array;
  unit: Int32Array;
  /** 1 candidate, 0 production, -1 error. */
  candidate: Int8Array;
  weight: Float32Array;
  version: Int32Array;
  rolloutId: string | null;
  errors: string[];
  cpuMicros: number;
  wallMs: number;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as LoadSettings;
const clock = () => performance.timeOrigin + performance.now();
const agent = new Agent({ keepAlive: true, maxSockets: settings.connections });
const capacity = 4_000_000;
const result: LoadResult = {
  count: 0,
  startedAt: new Float64Array(capacity),
  endedAt: new Float64Array(capacity),
  unit: new Int32Array(capacity),
  candidate: new Int8Array(capacity),
  weight: new Float32Array(capacity),
  version: new Int32Array(capacity),
  rolloutId: null,
  errors: [],
  cpuMicros: 0,
  wallMs: 0,
};

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${settings.url}${path}`,
      { agent, headers: { authorization: `Bearer ${settings.token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end();
  });
}

let state = settings.seed >>> 0;
/** A cheap LCG: units are spread over the whole range without Math.random. */
const nextUnit = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state % settings.units;
};

const cpuStart = process.cpuUsage();
const wallStart = clock();
const deadline = wallStart + settings.seconds * 1000;
await Promise.all(
  Array.from({ length: settings.connections }, async () => {
    while (clock() < deadline && result.count < capacity) {
      const unit = nextUnit();
      const i = result.count++;
      result.unit[i] = unit;
      result.startedAt[i] = clock();
      try {
        const res = await get(`/api/prompts/${settings.name}/resolve?unit=u-${unit}`);
        result.endedAt[i] = clock();
        if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
        const answer = JSON.parse(res.body) as {
          variant: string;
          weight: number;
          version: number;
          rolloutId: string | null;
        };
        result.candidate[i] = answer.variant === 'candidate' ? 1 : 0;
        result.weight[i] = answer.weight;
        result.version[i] = answer.version;
        result.rolloutId ??= answer.rolloutId;
      } catch (e) {
        result.endedAt[i] = clock();
        result.candidate[i] = -1;
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
    unit: result.unit.slice(0, n),
    candidate: result.candidate.slice(0, n),
    weight: result.weight.slice(0, n),
    version: result.version.slice(0, n),
  },
  () => process.exit(0),
);
