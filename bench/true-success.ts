import { runAgentStep } from '../llm/agent-step.js';
import type { ChatMessageIn, ChatTool, LlmClient } from '../llm/llm-client.js';
import { unitInterval } from '../optimizers/stable-hash.js';
import type { RecallMessage } from '../schemas/coaching.js';
import { formatIssues } from '../schemas/format-issues.js';
import { PromptConfig, promptForAgent } from '../schemas/prompt.js';
import type { Scenario } from '../test/simulator/scenario.js';

/**
 * Ground truth for bench:flywheel: how often a prompt version really answers right on
 * requests drawn from the scenario's distribution, measured on a fixed held-out set that
 * the loop never sees (its texts are not in any trace), with the version's whole content.
 */

/** What a released version puts in front of the agent: the system prompt and its tools. */
export interface AgentContent {
  system: string;
  tools: ChatTool[];
}

export interface HeldOutRequest {
  exampleId: string;
  /** The failure mode (scenario rule) the request falls in; null: a routine request. */
  rule: string | null;
  /** The example's request with a ticket suffix: same intent, a text no trace carries. */
  text: string;
  expectedAction: string;
}

/** Draws `n` requests uniformly from the scenario's examples, as simulated users do. */
export function heldOutRequests(scenario: Scenario, n: number, seed = 4242): HeldOutRequest[] {
  return Array.from({ length: n }, (_, i) => {
    const pick = Math.floor(unitInterval(`held-out|${i}`, seed) * scenario.examples.length);
    const example = scenario.examples[pick]!;
    return {
      exampleId: example.id,
      rule: example.rule,
      text: `${example.request} (ticket H-${seed}-${i})`,
      expectedAction: example.expected.action,
    };
  });
}

/** The known optimum: the base prompt with one fixing phrase per rule, nothing over-broad. */
export function oraclePrompt(scenario: Scenario): string {
  return `${scenario.basePrompt}\n${scenario.rules.map((r) => `${r.fixingPhrases[0]}.`).join('\n')}`;
}

/**
 * The agent's content for a version, applied by the product's own rule (`promptForAgent`:
 * the system prompt with the version's demos, the scenario's tools with the version's
 * descriptions), so the score is of what users of the version are served.
 */
export function contentOf(scenario: Scenario, version: { text: string; config?: unknown }): AgentContent {
  const config = PromptConfig.safeParse(version.config ?? {});
  if (!config.success)
    throw new Error(`The version's config is not a prompt config: ${formatIssues(config.error)}`);
  const applied = promptForAgent({ prompt: version.text, config: config.data }, scenario.actions);
  return {
    system: applied.systemPrompt,
    tools: applied.tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })),
  };
}

/**
 * What recalls coaching for a held-out conversation, as production would recall it:
 * coaching/coaching-replay-service.ts's `replayCoaching` (serve time's recall code and limits).
 */
export interface HeldOutCoaching {
  size: number;
  recall(messages: readonly RecallMessage[]): Promise<{ messages: readonly ChatMessageIn[] }>;
}

/** True success overall, on routine requests, per failure mode, and how many recalled coaching. */
export interface TrueSuccessDetail {
  overall: number;
  /** The held-out requests in no failure mode (null: the set has none). */
  routine: number | null;
  /** Per failure mode (scenario rule), its requests' share answered right. */
  byRule: Record<string, number>;
  /** Requests whose conversation recalled coaching. */
  coached: number;
}

const ROUTINE = '\u0000routine';

/**
 * Held-out requests answered with the expected action, asking the agent model exactly as
 * production does (system prompt, the coaching production recalls for the conversation,
 * the user's message, the tools), overall, on the routine requests and per failure mode.
 */
export async function trueSuccessDetail(
  agent: LlmClient,
  content: AgentContent,
  requests: readonly HeldOutRequest[],
  coaching: HeldOutCoaching | null = null,
): Promise<TrueSuccessDetail> {
  if (requests.length === 0) throw new Error('trueSuccess needs at least one held-out request');
  let right = 0;
  let coached = 0;
  const slices = new Map<string, { right: number; n: number }>();
  for (const r of requests) {
    const messages = [{ role: 'user' as const, content: r.text }];
    const fewShot = coaching && coaching.size > 0 ? (await coaching.recall(messages)).messages : [];
    if (fewShot.length > 0) coached++;
    const { step } = await runAgentStep(agent, {
      systemPrompt: content.system,
      messages,
      ...(fewShot.length ? { fewShot } : {}),
      tools: content.tools,
    });
    const ok = step.action === r.expectedAction;
    if (ok) right++;
    const slice = r.rule ?? ROUTINE;
    const acc = slices.get(slice) ?? { right: 0, n: 0 };
    acc.n++;
    if (ok) acc.right++;
    slices.set(slice, acc);
  }
  const share = (a: { right: number; n: number }) => a.right / a.n;
  const routine = slices.get(ROUTINE);
  return {
    overall: right / requests.length,
    routine: routine ? share(routine) : null,
    byRule: Object.fromEntries(
      [...slices].filter(([k]) => k !== ROUTINE).map(([k, a]) => [k, share(a)] as const),
    ),
    coached,
  };
}

/** Share of held-out requests the agent answers with the expected action (see trueSuccessDetail). */
export async function trueSuccess(
  agent: LlmClient,
  content: AgentContent,
  requests: readonly HeldOutRequest[],
  coaching: HeldOutCoaching | null = null,
): Promise<number> {
  return (await trueSuccessDetail(agent, content, requests, coaching)).overall;
}
