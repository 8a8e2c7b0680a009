import { runAgentStep } from '../llm/agent-step.js';
import type { ChatTool, LlmClient } from '../llm/llm-client.js';
import { unitInterval } from '../optimizers/stable-hash.js';
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
 * Share of held-out requests the agent answers with the expected action, asking the agent
 * model exactly as production does (system prompt, the user's message, the tools).
 */
export async function trueSuccess(
  agent: LlmClient,
  content: AgentContent,
  requests: readonly HeldOutRequest[],
): Promise<number> {
  if (requests.length === 0) throw new Error('trueSuccess needs at least one held-out request');
  let right = 0;
  for (const r of requests) {
    const { step } = await runAgentStep(agent, {
      systemPrompt: content.system,
      messages: [{ role: 'user', content: r.text }],
      tools: content.tools,
    });
    if (step.action === r.expectedAction) right++;
  }
  return right / requests.length;
}
