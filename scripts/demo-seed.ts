import type { Db } from '../db/connection.js';
import { ensureAgent } from '../registry/agent-service.js';
import { createTraceWriter } from '../traces/trace-storage-service.js';
import { createPromptVersion, labelledVersion } from '../registry/prompt-service.js';
import { moveLabel } from '../registry/label-move-service.js';
import type { LlmClient } from '../llm/llm-client.js';
import { scenarioTools, type Scenario } from '../test/simulator/scenario.js';
import { generateTraffic } from '../test/simulator/traffic.js';

export interface SeedOptions {
  now: Date;
  traces: number;
  days: number;
  seed: number;
}

/**
 * Registers the scenario's agent with its tools and production prompt (version 1), then a
 * week of simulated production traces. Does nothing when the agent already has a prompt.
 */
export async function seedDemoAgent(
  db: Db,
  agentModel: LlmClient,
  scenario: Scenario,
  options: SeedOptions,
): Promise<{ seeded: boolean; traces: number }> {
  const agent = scenario.agentId;
  if (await labelledVersion(db, agent, 'production')) return { seeded: false, traces: 0 };
  await ensureAgent(
    db,
    agent,
    {
      tools: scenarioTools(scenario),
      // A week of demo traffic is small, so the demo samples a large share of it. The
      // simulator's users draw their requests from the scenario's 72 fixed phrasings, so
      // identical texts are distinct conversations here, unlike production repeats.
      sampling: { rate: 0.3, maxSample: 400, dedup: { exact: false, near: false } },
      // Two rubrics: overall task completion (decided by the gold-step check where a trace
      // has one, so the cascade skips the judge there) and tool selection.
      evaluation: { judge: { dimensions: ['task_completion', 'tool_selection'] } },
    },
    'flywheel-dev',
    'demo seed',
  );
  const v1 = await createPromptVersion(db, agent, scenario.basePrompt, 'seed', null);
  await moveLabel(db, agent, 'production', v1.id, 'flywheel-dev', 'demo seed');
  const start = new Date(options.now.getTime() - options.days * 24 * 3600 * 1000);
  const records = await generateTraffic({
    scenario,
    agent: agentModel,
    resolve: () => Promise.resolve({ version: v1.version, text: v1.text }),
    count: options.traces,
    start,
    spacingMs: Math.floor((options.days * 24 * 3600 * 1000) / (options.traces + 1)),
    seed: options.seed,
    idPrefix: `seed-${agent}`,
  });
  await createTraceWriter(db).write(records);
  return { seeded: true, traces: records.length };
}
