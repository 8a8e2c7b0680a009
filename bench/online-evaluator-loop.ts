/**
 * The online evaluator for bench:online-ingest, alone in its own process (as a worker runs
 * it): the simulator as its model server, and the `evaluateOnline` activity run back to back
 * over the traces that keep arriving, each run as of the clock at its start. It prints one
 * JSON line per run.
 *
 *   tsx bench/online-evaluator-loop.ts <database url> <agent>
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createOnlineEvaluationActivities, type OnlineRunSummary } from '../activities/online-evaluation.js';
import { connectDatabase } from '../db/connection.js';
import { loadTaxonomy } from '../workers/load-taxonomy.js';
import { AIRLINE_SCENARIO, loadScenario } from '../test/simulator/scenario.js';
import { startSimulator } from '../test/simulator/simulator-server.js';
import { simulatedRoles } from '../test/helpers/simulated-roles.js';

const [url, agent] = process.argv.slice(2);
if (!url || !agent) throw new Error('usage: online-evaluator-loop.ts <database url> <agent>');
const db = connectDatabase(url, 8);
const simulator = await startSimulator(loadScenario(AIRLINE_SCENARIO));
const activities = createOnlineEvaluationActivities({
  db,
  llm: simulatedRoles(simulator.url, db),
  llmConcurrency: 8,
  taxonomy: loadTaxonomy(),
});
console.log('ready');
for (let run = 1; ; run++) {
  const summary: OnlineRunSummary = await new MockActivityEnvironment().run(
    activities.evaluateOnline.bind(activities),
    {
      agent,
      at: new Date().toISOString(),
      runKey: `bench-${run}`,
    },
  );
  console.log(JSON.stringify({ run, sampled: summary.sampled, judgeCalls: summary.judgeCalls }));
  if (summary.sampled === 0) await new Promise((r) => setTimeout(r, 500));
}
