/**
 * The drift detector on the simulator's traffic (bench/drift-traffic.ts, what bench:drift
 * runs): a failure mode of the airline scenario appearing mid-stream raises exactly one alert
 * within the current window, whose evidence points at the drifted traces; the same length of
 * stationary traffic raises none.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CachedModels, driftRun, productionPrompt } from '../../bench/drift-traffic.js';
import { DriftConfig, HOUR_MS } from '../../evaluation/drift/drift-config.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';

const scenario = loadScenario(AIRLINE_SCENARIO);
const models = new CachedModels(scenario);
const config = DriftConfig.parse({ enabled: true });
const DAYS = 9;
const ONSET = 5 * 24 + 7;

describe('drift alerts on simulated traffic', () => {
  it('serves a production prompt that fixes every rule but the one left out', () => {
    const prompt = productionPrompt(scenario, 'identify_user_first');
    for (const rule of scenario.rules) {
      assert.equal(
        prompt.toLowerCase().includes(rule.fixingPhrases[0]!.toLowerCase()),
        rule.id !== 'identify_user_first',
      );
    }
  });

  it('raises exactly one alert within a window when a prompt change brings back a failure mode', async () => {
    const drift = { kind: 'behaviour' as const, rule: 'confirm_before_booking', onsetHour: ONSET };
    const { alerts } = await driftRun({ scenario, config, seed: 21, days: DAYS, perHour: 20, drift, models });
    assert.equal(alerts.length, 1);
    const alert = alerts[0]!;
    const hoursAfterOnset = alert.atMs / HOUR_MS - ONSET;
    assert.ok(hoursAfterOnset > 0 && hoursAfterOnset <= config.currentWindowHours, `${hoursAfterOnset} h`);
    assert.ok(alert.findings.some((f) => f.slice === 'booking'));
    const first = alert.findings[0]!;
    assert.ok(first.after > first.before && first.pValue <= first.alpha);
    assert.ok(first.sampleTraceIds.length > 0);
    // Trace ids name the hour they were generated in: the drifted ones come after the onset.
    for (const id of alert.driftedTraceIds)
      assert.ok(Number(/-h(\d+)-/.exec(id)![1]) >= ONSET - config.currentWindowHours);
  });

  it('raises exactly one alert within a window when a new kind of failing request starts arriving', async () => {
    const drift = { kind: 'input' as const, rule: 'compensation_only_when_asked', onsetHour: ONSET };
    const { alerts } = await driftRun({ scenario, config, seed: 22, days: DAYS, perHour: 20, drift, models });
    assert.equal(alerts.length, 1);
    const hoursAfterOnset = alerts[0]!.atMs / HOUR_MS - ONSET;
    assert.ok(hoursAfterOnset > 0 && hoursAfterOnset <= config.currentWindowHours, `${hoursAfterOnset} h`);
    assert.ok(alerts[0]!.findings.some((f) => f.slice === 'delay'));
  });

  it('raises no alert on stationary traffic of the same length', async () => {
    for (const seed of [23, 24]) {
      const { alerts, firstTestHour } = await driftRun({
        scenario,
        config,
        seed,
        days: DAYS,
        perHour: 20,
        drift: null,
        models,
      });
      assert.equal(firstTestHour, config.currentWindowHours + config.minReferenceHours);
      assert.deepEqual(alerts, []);
    }
  });
});
