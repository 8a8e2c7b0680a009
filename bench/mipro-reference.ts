import path from 'node:path';
import { textIdOf } from '../activities/search-executor.js';
import type { Candidate } from '../optimizers/prompt-search.js';
import { SIMULATED_MODELS, startSimulator } from '../test/simulator/simulator-server.js';
import type { ScenarioHarness } from './optimization-harness.js';
import { runPythonAsync } from './python-env.js';

/**
 * DSPy's MIPROv2 (PyPI `dspy`, driven by bench/python/mipro_reference.py) on a harness's
 * scenario: the same train split, metric and rollout budget as our MIPRO, both models behind
 * the simulator's HTTP API (DSPy's OpenAI-compatible client). MIPROv2 has no rollout cap; it
 * runs its preset's trials, and a run that spends more than the budget is cut there (its
 * picks after the budget do not count). Returns, per seed, the picks over rollouts as
 * candidates of the harness's store, so the benchmark scores them on the test split exactly
 * as it scores ours.
 */
export interface MiproReferenceRun {
  seed: number;
  /** The pick (best full-valset score so far) each time it changed, with the rollouts spent by then. */
  curve: { rollouts: number; candidate: Candidate }[];
  best: Candidate;
  bestValScore: number;
  rollouts: number;
  teacherCalls: number;
  seconds: number;
  dspyVersion: string;
  /** Set when the run spent more rollouts than the budget. */
  overBudget?: number;
}

interface ReferenceAnswer {
  dspyVersion: string;
  curve: { rollouts: number; system: string; score: number }[];
  best: string;
  rollouts: number;
  errors: string[];
  seconds: number;
}

export const MIPRO_REFERENCE_SCRIPT = path.join(import.meta.dirname, 'python', 'mipro_reference.py');

export async function runMiproReference(
  h: ScenarioHarness,
  python: string,
  seeds: readonly number[],
  budget: number,
  /** MIPROv2's `auto` preset; our MIPRO runs 12 candidates in the benchmark, DSPy's "medium". */
  auto: 'light' | 'medium' | 'heavy',
  /** Extra MIPROv2.compile keyword arguments; none in the benchmark. */
  options: Record<string, unknown> = {},
  /** Give compile a valset of this many examples (the rest its trainset); null = compile's 80 %. */
  valsetSize: number | null = null,
): Promise<MiproReferenceRun[]> {
  const components = Object.keys(h.baseline);
  if (components.length !== 1 || components[0] !== 'system')
    throw new Error(`mipro-reference expects a {system} baseline, got {${components.join(', ')}}`);
  const basePrompt = (await h.store.texts([h.baseline.system!])).get(h.baseline.system!)!;
  const examples = await h.store.examples(h.trainIds);
  const train = h.trainIds.map((id) => {
    const e = examples.get(id)!;
    return { id, messages: e.messages, expected: e.expected, critique: e.critique ?? null };
  });
  const sim = await startSimulator(h.scenario);
  const runs: MiproReferenceRun[] = [];
  const put = async (system: string): Promise<Candidate> => {
    await h.store.putTexts([{ id: textIdOf(system), text: system, kind: 'component' }]);
    return { system: textIdOf(system) };
  };
  try {
    for (const seed of seeds) {
      const answer = (await runPythonAsync(python, MIPRO_REFERENCE_SCRIPT, {
        simulatorUrl: sim.url,
        agentModel: SIMULATED_MODELS.agent,
        teacherModel: SIMULATED_MODELS.teacher,
        // Our harness replays every agent step with the executor's seed (0): same noise draws.
        agentSeed: h.io.seed,
        seed,
        auto,
        valsetSize,
        basePrompt,
        tools: h.io.tools,
        train,
        options,
      })) as ReferenceAnswer;
      if (answer.errors.length)
        throw new Error(
          `mipro-reference seed ${seed}: ${answer.errors.length} failed calls: ${answer.errors[0]}`,
        );
      // Counted where they are answered: every teacher call DSPy made, whatever it was for.
      const teacherCalls = sim.requests.filter((r) => r.model === SIMULATED_MODELS.teacher).length;
      const agentCalls = sim.requests.filter((r) => r.model === SIMULATED_MODELS.agent).length;
      if (agentCalls !== answer.rollouts)
        throw new Error(
          `mipro-reference counted ${answer.rollouts} rollouts, the simulator answered ${agentCalls}`,
        );
      // The bench never reads the simulator's request log otherwise; a run adds thousands of entries.
      sim.requests.length = 0;
      if (answer.curve.at(-1)?.system !== answer.best)
        throw new Error(
          `mipro-reference seed ${seed}: MIPROv2 returned a program its full evaluations did not pick`,
        );
      const within = answer.curve.filter((p) => p.rollouts <= budget);
      const curve: MiproReferenceRun['curve'] = [];
      for (const p of within) curve.push({ rollouts: p.rollouts, candidate: await put(p.system) });
      const last = within.at(-1);
      runs.push({
        seed,
        curve,
        best: last ? await put(last.system) : h.baseline,
        bestValScore: last?.score ?? 0,
        rollouts: Math.min(answer.rollouts, budget),
        teacherCalls,
        seconds: answer.seconds,
        dspyVersion: answer.dspyVersion,
        ...(answer.rollouts > budget ? { overBudget: answer.rollouts } : {}),
      });
    }
  } finally {
    await sim.close();
  }
  return runs;
}
