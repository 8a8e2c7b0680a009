import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createScoreActivities, type ScoringSummary } from '../../activities/score-traces.js';
import type { Db } from '../../db/connection.js';
import { loadTaxonomy } from '../../workers/load-taxonomy.js';
import { seedDemoAgent } from '../../scripts/demo-seed.js';
import { startMigratedDatabase } from '../helpers/local-infrastructure.js';
import { simulatedRoles } from '../helpers/simulated-roles.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';
import { startSimulator, type SimulatorServer } from '../simulator/simulator-server.js';

/**
 * bench:faults found a cycle whose diagnosis report counted fewer judge calls under faults
 * than its fault-free twin: a scoring attempt retried after a crash skipped every rubric the
 * first attempt had answered, and counted neither its calls nor its tokens.
 */
describe('scoring retried after an interrupted attempt', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let simulator: SimulatorServer;
  const scenario = loadScenario(AIRLINE_SCENARIO);
  before(async () => {
    database = await startMigratedDatabase('flywheel-scoring-retry');
    simulator = await startSimulator(scenario);
    await seedDemoAgent(database.db, simulatedRoles(simulator.url, database.db).agent, scenario, {
      now: new Date(),
      traces: 24,
      days: 2,
      seed: 4,
    });
  });
  after(async () => {
    await simulator?.close();
    await database?.teardown();
  });

  it('reports the judge calls and tokens of an uninterrupted attempt, and pays for nothing again', async () => {
    const { db } = database;
    const now = new Date();
    const cycleId = 'cycle-demo-scoring-retry';
    await db
      .insertInto('cycles')
      .values({
        id: cycleId,
        agent_id: 'demo',
        run_id: 'r',
        stage: 'scoring',
        outcome: 'in_progress',
        window_start: now,
        window_end: now,
        input: '{}',
      })
      .execute();
    // A sample as the sampler stores it: the trace's content, redacted (nothing to redact here).
    const traces = await db
      .selectFrom('traces')
      .select(['id', 'input', 'output', 'expected', 'expected_actions'])
      .where('agent_id', '=', 'demo')
      .execute();
    await db
      .insertInto('samples')
      .values(
        traces.map((t) => ({
          cycle_id: cycleId,
          trace_id: t.id,
          reason: 'baseline',
          redacted: JSON.stringify({
            input: t.input,
            output: t.output,
            expected: t.expected,
            expected_actions: t.expected_actions,
          }),
        })),
      )
      .execute();
    const activities = createScoreActivities({
      db,
      llm: simulatedRoles(simulator.url, db),
      llmConcurrency: 4,
      taxonomy: loadTaxonomy(),
    });
    const score = (): Promise<ScoringSummary> =>
      new MockActivityEnvironment().run(activities.scoreSample.bind(activities), {
        cycleId,
        agent: 'demo',
        seed: 1,
      });
    const first = await score();
    assert.ok(first.judgeCalls > 0, 'the judge was asked');
    const paid = simulator.requests.filter((r) => r.status === 200).length;

    // The worker died after the attempt had stored its scores; Temporal runs it again.
    const retried = await score();
    assert.deepEqual(retried, first);
    assert.equal(
      simulator.requests.filter((r) => r.status === 200).length,
      paid,
      'every answer came from the response cache',
    );
  });
});
