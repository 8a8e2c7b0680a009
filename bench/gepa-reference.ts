import path from 'node:path';
import { textIdOf } from '../activities/search-executor.js';
import type { Candidate } from '../optimizers/prompt-search.js';
import { SIMULATED_MODELS, startSimulator } from '../test/simulator/simulator-server.js';
import type { ScenarioHarness } from './optimization-harness.js';
import { runPythonAsync } from './python-env.js';

/**
 * The reference GEPA (PyPI `gepa`, driven by bench/python/gepa_reference.py) on a harness's
 * scenario: the same train split, metric, feedback and rollout budget as our optimizers, with
 * every model call over the simulator's HTTP API. Returns, per seed, the picks over metric
 * calls as candidates of the harness's store, so the benchmark scores them on the test split
 * exactly as it scores ours.
 */
export interface ReferenceRun {
  seed: number;
  /** The pick (best mean val score so far) each time a candidate's full val evaluation ends. */
  curve: { rollouts: number; candidate: Candidate }[];
  best: Candidate;
  bestValScore: number;
  rollouts: number;
  teacherCalls: number;
  candidates: number;
  seconds: number;
  gepaVersion: string;
}

interface ReferenceAnswer {
  gepaVersion: string;
  candidates: { system: string }[];
  valScores: number[];
  discoveryMetricCalls: number[];
  valsetSize: number;
  totalMetricCalls: number;
  reflectionCalls: number;
  seconds: number;
}

export const GEPA_REFERENCE_SCRIPT = path.join(import.meta.dirname, 'python', 'gepa_reference.py');

export async function runGepaReference(
  h: ScenarioHarness,
  python: string,
  seeds: readonly number[],
  budget: number,
  /** Extra gepa.optimize keyword arguments; none in the benchmark, which runs gepa's defaults. */
  options: Record<string, unknown> = {},
): Promise<ReferenceRun[]> {
  // The harness's baseline has one component, `system`; gepa gets the same seed candidate.
  const components = Object.keys(h.baseline);
  if (components.length !== 1 || components[0] !== 'system')
    throw new Error(`gepa-reference expects a {system} baseline, got {${components.join(', ')}}`);
  const baseText = (await h.store.texts([h.baseline.system!])).get(h.baseline.system!)!;
  const examples = await h.store.examples(h.trainIds);
  const train = h.trainIds.map((id) => {
    const e = examples.get(id)!;
    return { id, messages: e.messages, expected: e.expected, critique: e.critique ?? null };
  });
  const sim = await startSimulator(h.scenario);
  const runs: ReferenceRun[] = [];
  try {
    for (const seed of seeds) {
      const answer = (await runPythonAsync(python, GEPA_REFERENCE_SCRIPT, {
        simulatorUrl: sim.url,
        agentModel: SIMULATED_MODELS.agent,
        teacherModel: SIMULATED_MODELS.teacher,
        // Our harness replays every agent step with the executor's seed (0): same noise draws.
        agentSeed: h.io.seed,
        seed,
        budget,
        seedCandidate: { system: baseText },
        tools: h.io.tools,
        train,
        options,
      })) as ReferenceAnswer;
      // The bench never reads the simulator's request log; a run adds thousands of entries.
      sim.requests.length = 0;
      const picks: Candidate[] = [];
      for (const c of answer.candidates) {
        await h.store.putTexts([{ id: textIdOf(c.system), text: c.system, kind: 'component' }]);
        picks.push({ system: textIdOf(c.system) });
      }
      // gepa records a candidate's discovery before its full val evaluation; like our
      // trajectory, a pick counts from when that evaluation is paid for (full_eval policy).
      const curve: ReferenceRun['curve'] = [];
      let best = 0;
      answer.candidates.forEach((_, i) => {
        if (answer.valScores[i]! > answer.valScores[best]!) best = i;
        const rollouts = (i === 0 ? 0 : answer.discoveryMetricCalls[i]!) + answer.valsetSize;
        curve.push({ rollouts, candidate: picks[best]! });
      });
      const run: ReferenceRun = {
        seed,
        curve,
        best: picks[best]!,
        bestValScore: answer.valScores[best]!,
        rollouts: answer.totalMetricCalls,
        teacherCalls: answer.reflectionCalls,
        candidates: answer.candidates.length,
        seconds: answer.seconds,
        gepaVersion: answer.gepaVersion,
      };
      runs.push(run);
    }
  } finally {
    await sim.close();
  }
  return runs;
}
