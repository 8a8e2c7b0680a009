import type { Db } from '../../db/connection.js';
import type { LlmRoles } from '../../llm/llm-client.js';
import { agentConfig, updateAgentConfig } from '../../registry/store/agent-repository.js';
import { seedDemoAgent } from '../../scripts/demo-seed.js';
import type { Scenario } from '../simulator/scenario.js';

/**
 * Seeds the scenario's agent with `days` of traces ending now and lets consecutive cycles
 * sample the same traces again (`skipSampledBefore: false` unless told otherwise): the tests
 * and benches run several cycles over one seeded week, each standing for a week of traffic
 * with the same failure modes.
 */
export async function seedSharedWeek(
  target: { db: Db; llm: LlmRoles; scenario: Scenario },
  options: {
    traces: number;
    seed: number;
    days?: number;
    skipSampledBefore?: boolean;
    /** Who and why, as the agent's configuration history records the change. */
    actor?: string;
    reason?: string;
  },
): Promise<void> {
  const { db, llm, scenario } = target;
  await seedDemoAgent(db, llm.agent, scenario, {
    now: new Date(),
    traces: options.traces,
    days: options.days ?? 7,
    seed: options.seed,
  });
  const { sampling } = await agentConfig(db, scenario.agentId);
  await updateAgentConfig(
    db,
    scenario.agentId,
    { patch: { sampling: { ...sampling, skipSampledBefore: options.skipSampledBefore ?? false } } },
    options.actor ?? 'test',
    options.reason ?? 'cycles of one test share one seeded week',
  );
}
