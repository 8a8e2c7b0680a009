/**
 * The online evaluator for bench:online-ingest, alone in its own process (as a worker runs
 * it): the simulator as its model server, and the `evaluateOnline` activity started every
 * `every` seconds (the schedule's cadence, shortened; 0: back to back) over the traces that
 * keep arriving, each run as of the clock at its start. It prints one JSON line per run.
 *
 *   tsx bench/online-evaluator-loop.ts <database url> <agent> [every seconds]
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createOnlineEvaluationActivities, type OnlineRunSummary } from '../activities/online-evaluation.js';
import { connectDatabase } from '../db/connection.js';
import { loadTaxonomy } from '../workers/load-taxonomy.js';
import { AIRLINE_SCENARIO, loadScenario } from '../test/simulator/scenario.js';
import { startSimulator } from '../test/simulator/simulator-server.js';
import { simulatedRoles } from '../test/helpers/simulated-roles.js';

const [url, agent, every = '0'] = process.argv.slice(2);
const everyMs = Number(every) * 1000;
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
  const started = Date.now();
  const summary: OnlineRunSummary = await new MockActivityEnvironment().run(
    activities.evaluateOnline.bind(activities),
    {
      agent,
      at: new Date().toISOString(),
      runKey: `bench-${run}`,
    },
  );
  console.log(JSON.stringify({ run, sampled: summary.sampled, judgeCalls: summary.judgeCalls }));
  const wait = everyMs > 0 ? everyMs - (Date.now() - started) : summary.sampled === 0 ? 500 : 0;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
