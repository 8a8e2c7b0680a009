import { promptForAgent, withCoaching, type FlywheelClient } from '../../client/flywheel-client.js';
import { unitInterval } from '../../optimizers/stable-hash.js';
import { runAgentStep } from '../../llm/agent-step.js';
import type { ChatMessageIn, LlmClient } from '../../llm/llm-client.js';
import type { TraceRecord } from '../../schemas/trace.js';
import { systemTextOf, type PromptConfig } from '../../schemas/prompt.js';
import { scenarioTools, type Scenario } from './scenario.js';

export interface ServedPrompt {
  version: number;
  /** The version's prompt (a chat prompt's system messages joined). */
  text: string;
  /** The registry name; traces report it as `promptName` when given. */
  name?: string;
  /** The version's config: its tool descriptions and demos are applied as resolve's clients do. */
  config?: PromptConfig;
  /** The served version's id (`promptVersionId` of resolve's answer), which coaching recall takes. */
  promptVersionId?: string;
}

/** Serves prompts the way a TypeScript agent would: through the typed client's resolve. */
export function resolveWith(client: FlywheelClient, name: string) {
  return async (unitKey: string): Promise<ServedPrompt> => {
    const r = await client.resolvePrompt(name, unitKey);
    return {
      version: r.version,
      text: systemTextOf(r.prompt),
      name: r.name,
      config: r.config,
      promptVersionId: r.promptVersionId,
    };
  };
}

/**
 * Recall as a deployed agent does after resolve: the conversation so far and the version
 * resolve served (so a rollout's candidate share recalls its coaching set), the recalled
 * messages inserted after the system prompt and the applied coaching named on the trace.
 */
export function recallWith(client: FlywheelClient, agent: string): NonNullable<TrafficOptions['coach']> {
  return async (messages, served) => {
    const recalled = await client.recallCoaching(
      agent,
      messages,
      served.promptVersionId ? { promptVersionId: served.promptVersionId } : {},
    );
    return { fewShot: withCoaching([], recalled), attributes: client.coachingTraceAttributes(recalled) };
  };
}

export interface TrafficOptions {
  scenario: Scenario;
  agent: LlmClient;
  /** Which prompt a user gets: production for seeding, the resolve endpoint during rollouts. */
  resolve: (unitKey: string) => Promise<ServedPrompt>;
  count: number;
  start: Date;
  spacingMs: number;
  seed: number;
  idPrefix: string;
  /** How the user words the example's request (which must stay in the text); verbatim when absent. */
  phrase?: (request: string, key: string) => string;
  /**
   * Coaching the agent recalls for the conversation, as a deployed agent does after resolve:
   * the few-shot messages to insert after the system prompt and the trace attributes naming
   * what was applied. Absent: no recall.
   */
  coach?: (
    messages: readonly { role: 'user'; content: string }[],
    served: ServedPrompt,
  ) => Promise<{ fewShot: readonly ChatMessageIn[]; attributes: Record<string, unknown> }>;
}

/**
 * Simulated production traffic: users from the scenario ask their questions, the agent
 * answers through the real LLM client with the prompt it was served, and users leave
 * feedback (thumbs-down on failures, with the scenario's noise). Part of the simulator,
 * not of the product.
 */
export async function generateTraffic(options: TrafficOptions): Promise<TraceRecord[]> {
  const { scenario } = options;
  const tools = scenarioTools(scenario);
  const records: TraceRecord[] = [];
  for (let i = 0; i < options.count; i++) {
    const key = `${options.idPrefix}-${i}`;
    const example =
      scenario.examples[Math.floor(unitInterval(`pick|${key}`, options.seed) * scenario.examples.length)]!;
    const userId = `user-${Math.floor(unitInterval(`user|${key}`, options.seed) * 500)}`;
    const served = await options.resolve(userId);
    const content = options.phrase ? options.phrase(example.request, key) : example.request;
    const messages = [{ role: 'user' as const, content }];
    // The whole served version: its system prompt, demos and tool descriptions.
    const agentPrompt = promptForAgent({ prompt: served.text, config: served.config ?? {} }, tools);
    const coached = options.coach ? await options.coach(messages, served) : null;
    const { step } = await runAgentStep(options.agent, {
      messages,
      ...agentPrompt,
      ...(coached?.fewShot.length ? { fewShot: coached.fewShot } : {}),
    });
    const wrong = step.action !== example.expected.action;
    const u = unitInterval(`feedback|${key}`, options.seed);
    const noise = scenario.noise.feedback;
    let feedback: TraceRecord['feedback'];
    if (wrong && u >= noise) {
      const rule = scenario.rules.find((r) => r.id === example.rule);
      const texts = rule?.feedback ?? ['That was not what I asked for.'];
      feedback = {
        score: -1,
        text: texts[Math.floor(unitInterval(`text|${key}`, options.seed) * texts.length)],
      };
    } else if (!wrong && u < scenario.traffic.positiveFeedbackShare) {
      feedback = { score: 1 };
    } else if (!wrong && u > 1 - noise / 3) {
      feedback = { score: -1, text: 'Meh.' };
    }
    const withExpected = unitInterval(`expected|${key}`, options.seed) < scenario.traffic.expectedShare;
    records.push({
      id: key,
      agent: scenario.agentId,
      promptVersion: served.version,
      ...(served.name ? { promptName: served.name } : {}),
      sessionId: `session-${key}`,
      userId,
      timestamp: new Date(options.start.getTime() + i * options.spacingMs).toISOString(),
      input: { messages: messages.map((m) => ({ ...m })) },
      output: step,
      ...(withExpected ? { expected: example.expected } : {}),
      ...(feedback ? { feedback } : {}),
      status: 'ok',
      spans: [],
      // The example's tags become the trace's slices (the dataset's per-slice gating), except
      // the simulator's own test switches.
      attributes: {
        scenario: scenario.name,
        example: example.id,
        'flywheel.slices': example.tags.filter((t) => !t.startsWith('judge-')),
        ...coached?.attributes,
      },
    });
  }
  return records;
}
