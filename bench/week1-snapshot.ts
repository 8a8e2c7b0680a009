/**
 * Week-1 cycle snapshots (a one-off tool for issue 16, not part of any bench): runs
 * bench:flywheel's first week for each (scenario, seed) on the real stack at the default
 * configuration, then writes what that cycle's optimize stage started from — its train
 * examples as the run's store loads them (messages, reviewed expectation, critique), their
 * order and failure clusters, the production components, the tools and the run's seed — with
 * the cycle's own record (the pick, its ground truth, the gate). bench/gepa-cycle-probe.ts
 * re-runs the optimizer on these snapshots in process, many times and with other settings.
 *
 *   npx tsx bench/week1-snapshot.ts --seeds 6 --out bench/results/week1-snapshots.json [--gepa-settings '{"reflectionMinibatchSize":8}'] \
 *     [--scenario test/simulator/scenarios/airline.json --scenario bench/scenarios/synthetic-12.json]
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { agentConfig } from '../registry/store/agent-repository.js';
import { trainExampleClusters } from '../datasets/store/optimizer-examples.js';
import { PgSearchStore } from '../optimization/store/pg-search-store.js';
import { componentsOfVersion } from '../registry/shipped-prompt.js';
import { OptimizerChoice } from '../schemas/optimizer-config.js';
import { PromptConfig } from '../schemas/prompt.js';
import type { SearchExample } from '../optimization/search-store.js';
import { InProcessSimulatorClient } from '../test/simulator/in-process-client.js';
import { AIRLINE_SCENARIO, loadScenario } from '../test/simulator/scenario.js';
import { SIMULATED_MODELS } from '../test/simulator/simulator-server.js';
import { runSeed, type SeedWeekRecord } from './flywheel-seed-run.js';
import { startFlywheelStack } from './flywheel-stack.js';
import { SYNTHETIC_SCENARIO_FILE } from './synthetic-scenario.js';
import { heldOutRequests } from './true-success.js';

export interface Week1Snapshot {
  scenarioFile: string;
  scenario: string;
  seed: number;
  agent: string;
  cycleId: string;
  /** The optimize run's seed (the cycle's). */
  runSeed: number;
  trainIds: string[];
  strata: Record<string, string>;
  examples: SearchExample[];
  /** Production's components at the cycle's start (component → text). */
  components: { component: string; text: string }[];
  record: SeedWeekRecord;
}

const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string', multiple: true },
    seeds: { type: 'string', default: '3' },
    parallel: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/results/week1-snapshots.json' },
    /** GEPA settings for the cycles (default: the agent's optimizer, GEPA at its defaults). */
    'gepa-settings': { type: 'string' },
  },
});
const files = args.scenario ?? [AIRLINE_SCENARIO, SYNTHETIC_SCENARIO_FILE];
const scenarios = files.map((f) => ({
  file: path.relative(process.cwd(), path.resolve(f)),
  scenario: loadScenario(f),
}));
const log = (line: string) => console.log(line);
const stack = await startFlywheelStack(log, scenarios[0]!.scenario);
const snapshots: Week1Snapshot[] = [];
const jobs = scenarios.flatMap((s) =>
  Array.from({ length: Number(args.seeds) }, (_, i) => ({ ...s, seed: i + 1 })),
);
let next = 0;
async function lane() {
  while (next < jobs.length) {
    const { file, scenario, seed } = jobs[next++]!;
    const run = await runSeed({
      stack,
      arm: 'prompt',
      scenario,
      seed,
      weeks: 1,
      tracesPerWeek: 1000,
      reviewerError: 0.1,
      labelsPerWeek: 20,
      heldOut: heldOutRequests(scenario, 2000),
      scorer: new InProcessSimulatorClient(scenario, SIMULATED_MODELS.agent),
      userAgent: new InProcessSimulatorClient(scenario, SIMULATED_MODELS.agent),
      analysisIntervalSeconds: 2,
      annotationDeadlineSeconds: 10,
      rolloutTrafficPerSecond: 150,
      maxResumes: 40,
      approveInconclusive: false,
      cycleTimeoutSeconds: 900,
      ...(args['gepa-settings']
        ? {
            optimizerChoice: OptimizerChoice.parse({
              name: 'gepa',
              settings: JSON.parse(args['gepa-settings']) as unknown,
            }),
          }
        : {}),
      log,
    });
    const record = run.weeks[0]!;
    if (!record.dataset || !record.optimization) {
      log(`${run.agent}: week 1 has no dataset or optimization (${record.outcome}); skipped`);
      continue;
    }
    const { db } = stack;
    const config = await agentConfig(db, run.agent);
    const train = await trainExampleClusters(db, record.dataset.datasetVersionId);
    const trainIds = train.map((t) => t.id);
    const strata = Object.fromEntries(
      train.flatMap((t) => (t.cluster_id === null ? [] : [[t.id, t.cluster_id]])),
    );
    const store = new PgSearchStore(db, record.optimization.runId, record.cycleId, config.tools);
    const examples = await store.examples(trainIds);
    // Week 1 starts from the seed prompt (version 1): the base prompt with no config.
    const components = componentsOfVersion(
      { text: scenario.basePrompt, config: PromptConfig.parse({}) },
      config.tools,
    );
    snapshots.push({
      scenarioFile: file,
      scenario: scenario.name,
      seed,
      agent: run.agent,
      cycleId: record.cycleId,
      runSeed: seed * 1000 + 1,
      trainIds,
      strata,
      examples: trainIds.map((id) => examples.get(id)!),
      components,
      record,
    });
    log(`${run.agent}: snapshot of ${trainIds.length} train examples`);
  }
}
try {
  await Promise.all(Array.from({ length: Number(args.parallel) }, lane));
} finally {
  await stack.stop();
}
snapshots.sort((a, b) => a.scenario.localeCompare(b.scenario) || a.seed - b.seed);
writeFileSync(args.out, JSON.stringify(snapshots, null, 1));
log(`wrote ${snapshots.length} snapshots to ${args.out}`);
