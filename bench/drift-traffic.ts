import { unitInterval } from '../optimizers/stable-hash.js';
import type { ChatRequest, ChatResponse, LlmClient } from '../llm/llm-client.js';
import type { DriftConfig } from '../evaluation/drift/drift-config.js';
import type { DriftAlert, DriftObservation } from '../evaluation/drift/drift-detector.js';
import { DriftMonitor } from '../evaluation/drift/drift-monitor.js';
import type { TraceRecord } from '../schemas/trace.js';
import { InProcessSimulatorClient } from '../test/simulator/in-process-client.js';
import type { Scenario } from '../test/simulator/scenario.js';
import { SIMULATED_MODELS } from '../test/simulator/simulator-server.js';
import { simulateEmbedding } from '../test/simulator/simulated-models.js';
import { generateTraffic } from '../test/simulator/traffic.js';

/**
 * One simulated run for bench:drift: an agent whose production prompt already fixes the
 * scenario's hidden rules serves the scenario's users hour by hour (the simulator's traffic
 * generator, its agent in process), the traces become drift observations, and the detector
 * looks after every hour. A planted drift makes one of the scenario's failure modes appear
 * at an onset hour, in one of two ways:
 *
 * - `behaviour`: the served prompt loses that rule's fixing phrase (a bad prompt or model
 *   change): the same requests, now failing;
 * - `input`: requests of that kind were absent and start arriving (a new use case the prompt
 *   never covered): new inputs, failing.
 *
 * What the simulator does not model is added from seeded hashes of the trace id, the same
 * before and after the onset: latency (log-normal, longer for longer prompts), cost (from the
 * prompt and request lengths), infrastructure errors (0.5 %), and the judge's verdict on the
 * half of the traces that carry a gold step (the step against the gold action, flipped at the
 * scenario's judge noise), as an online evaluator would score them.
 */

export type PlantedDrift = { kind: 'behaviour' | 'input'; rule: string; onsetHour: number };

export interface DriftRunOptions {
  scenario: Scenario;
  config: DriftConfig;
  seed: number;
  days: number;
  perHour: number;
  drift: PlantedDrift | null;
  /** Shared between runs: the agent and embedding answers are pure, so they are cached. */
  models?: CachedModels;
}

export interface DriftRunResult {
  alerts: DriftAlert[];
  traces: number;
  /** The first hour at which a test could run (the reference's warm-up before it). */
  firstTestHour: number | null;
}

const GREETINGS = [
  '',
  'Hi. ',
  'Hello, ',
  'Good morning. ',
  'Quick question: ',
  'Please help. ',
  'Hey there. ',
];

export function productionPrompt(scenario: Scenario, without: string | null): string {
  const fixes = scenario.rules
    .filter((r) => r.id !== without)
    .map((r) => `${r.fixingPhrases[0]![0]!.toUpperCase()}${r.fixingPhrases[0]!.slice(1)}.`);
  return [scenario.basePrompt, ...fixes].join('\n');
}

export async function driftRun(o: DriftRunOptions): Promise<DriftRunResult> {
  const models = o.models ?? new CachedModels(o.scenario);
  const monitor = new DriftMonitor(o.config, 0);
  const withoutRule: Scenario = o.drift
    ? { ...o.scenario, examples: o.scenario.examples.filter((e) => e.rule !== o.drift!.rule) }
    : o.scenario;
  let traces = 0;
  let firstTestHour: number | null = null;
  for (let hour = 0; hour < o.days * 24; hour++) {
    const drifted = o.drift !== null && hour >= o.drift.onsetHour;
    const scenario = o.drift?.kind === 'input' && !drifted ? withoutRule : o.scenario;
    const prompt = productionPrompt(
      o.scenario,
      o.drift?.kind === 'input' || (o.drift?.kind === 'behaviour' && drifted) ? o.drift.rule : null,
    );
    const records = await generateTraffic({
      scenario,
      agent: models.agent,
      resolve: () => Promise.resolve({ version: 1, text: prompt }),
      count: o.perHour,
      start: new Date(hour * 3_600_000),
      spacingMs: 3_600_000 / o.perHour,
      seed: o.seed,
      idPrefix: `r${o.seed}-h${hour}`,
      phrase: (request, key) =>
        `${GREETINGS[Math.floor(unitInterval(`greet|${key}`, o.seed) * GREETINGS.length)]!}${request}`,
    });
    traces += records.length;
    monitor.observe(records.map((r) => observationOf(r, prompt, o.scenario, o.seed, models)));
    const check = monitor.check((hour + 1) * 3_600_000);
    if (check.tested && firstTestHour === null) firstTestHour = hour + 1;
  }
  return { alerts: monitor.alerts, traces, firstTestHour };
}

function observationOf(
  r: TraceRecord,
  prompt: string,
  scenario: Scenario,
  seed: number,
  models: CachedModels,
): DriftObservation {
  const u = (what: string) => unitInterval(`${what}|${r.id}`, seed);
  const text = r.input.messages.map((m) => m.content ?? '').join('\n');
  const action = r.output && 'action' in r.output ? r.output.action : undefined;
  const judged = r.expected !== undefined;
  const correct = judged && action === r.expected?.action;
  const flip = u('judge') < scenario.noise.judge;
  const promptTokens = (prompt.length + text.length) / 4;
  const gaussian = Math.sqrt(-2 * Math.log(Math.max(u('lat1'), 1e-12))) * Math.cos(2 * Math.PI * u('lat2'));
  const slices = r.attributes?.['flywheel.slices'];
  return {
    traceId: r.id,
    timeMs: Date.parse(r.timestamp),
    slices: Array.isArray(slices) ? slices.filter((s): s is string => typeof s === 'string') : [],
    ...(judged ? { judgePass: correct !== flip } : {}),
    negativeFeedback: r.feedback?.score === -1,
    escalated: action === 'transfer_to_human_agents',
    error: u('error') < 0.005,
    latencyMs: (600 + promptTokens * 2) * Math.exp(0.35 * gaussian),
    costUsd: (promptTokens * 0.15 + (40 + 40 * u('completion')) * 0.6) / 1e6,
    embedding: models.embedding(text),
  };
}

/** The simulated agent and embedder, memoised: both answer as pure functions of the request. */
export class CachedModels {
  readonly agent: LlmClient;
  private readonly embeddings = new Map<string, number[]>();

  constructor(scenario: Scenario) {
    const inner = new InProcessSimulatorClient(scenario, SIMULATED_MODELS.agent);
    const answers = new Map<string, Promise<ChatResponse>>();
    this.agent = {
      model: inner.model,
      chat(request: ChatRequest) {
        const key = JSON.stringify([request.messages, request.seed ?? null]);
        let answer = answers.get(key);
        if (!answer) answers.set(key, (answer = inner.chat(request)));
        return answer;
      },
      embed: (texts: string[]) => inner.embed(texts),
    };
  }

  embedding(text: string): number[] {
    let v = this.embeddings.get(text);
    // What the in-process embedder (sim-embed) answers for the text.
    if (!v) this.embeddings.set(text, (v = simulateEmbedding(text)));
    return v;
  }
}
