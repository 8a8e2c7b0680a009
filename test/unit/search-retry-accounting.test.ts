import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateCandidate } from '../../activities/search-executor.js';
import { scenarioHarness } from '../../bench/optimization-harness.js';
import { syntheticScenario } from '../../bench/synthetic-scenario.js';
import { candidateIdOf } from '../../optimizers/prompt-search.js';

/**
 * bench:faults found an optimizer run whose token total was lower under faults than in its
 * fault-free twin: an evaluation whose activity was retried after a crash skipped the outputs
 * the first attempt had stored, and counted neither their rollouts nor their tokens.
 */
describe('an optimizer evaluation retried after an interrupted attempt', () => {
  it('reports the rollouts and tokens of an uninterrupted one', async () => {
    const whole = await scenarioHarness(syntheticScenario());
    const ids = whole.trainIds.slice(0, 8);
    const id = candidateIdOf(whole.baseline);
    const uninterrupted = await evaluateCandidate(whole.io, whole.baseline, id, ids, 'rerun');
    assert.equal(uninterrupted.rollouts, ids.length);
    assert.ok(uninterrupted.tokens > 0);

    // The first attempt stored half of the outputs, then its worker died.
    const cut = await scenarioHarness(syntheticScenario());
    await evaluateCandidate(cut.io, cut.baseline, id, ids.slice(0, 4), 'rerun');
    const retried = await evaluateCandidate(cut.io, cut.baseline, id, ids, 'rerun');
    assert.deepEqual(retried, uninterrupted);
  });

  it('the gate path still takes outputs the optimizer stored without counting them again', async () => {
    const h = await scenarioHarness(syntheticScenario());
    const ids = h.trainIds.slice(0, 6);
    const id = candidateIdOf(h.baseline);
    const optimizer = await evaluateCandidate(h.io, h.baseline, id, ids.slice(0, 4), 'rerun');
    const gate = await evaluateCandidate(h.io, h.baseline, id, ids);
    assert.equal(gate.rollouts, 2, 'only the two examples the optimizer did not run');
    assert.ok(gate.tokens < optimizer.tokens);
  });
});
