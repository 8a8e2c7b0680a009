/**
 * What issue 16's one-off probes (bench/mipro-probe.ts, bench/protegi-probe.ts,
 * bench/gepa-settings.ts) share: their command line, the scenarios they run, one optimizer run
 * with bench:optimizers' seeds-and-budget setup, and the rollouts until its pick reaches a
 * target score on the test split.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { SearchOutcome } from '../optimizers/prompt-search.js';
import { AIRLINE_SCENARIO, loadScenario, type Scenario } from '../test/simulator/scenario.js';
import { runSearch, type ScenarioHarness, type SearchHooks } from './optimization-harness.js';
import { syntheticScenario } from './synthetic-scenario.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The probes' options: `--seeds N`, `--budget ROLLOUTS`, `--settings JSON`…, `--scenario FILE`…. */
function probeOptions(defaults: { seeds: string; settings: string }) {
  return {
    seeds: { type: 'string', default: defaults.seeds },
    budget: { type: 'string', default: '6000' },
    settings: { type: 'string', multiple: true, default: [defaults.settings] },
    scenario: { type: 'string', multiple: true, default: [] as string[] },
  } satisfies Options;
}

/**
 * The command line of a probe: the shared options (`defaults` gives the seeds and the one
 * settings object used when none is given) and a probe's own `extra` ones, all strict.
 */
export function probeArgs<const Extra extends Options>(
  defaults: { seeds: string; settings: string },
  extra: Extra,
) {
  const { values } = parseArgs<{ options: ReturnType<typeof probeOptions> & Extra }>({
    options: { ...probeOptions(defaults), ...extra },
  });
  const shared = values as { seeds: string; budget: string; settings: string[]; scenario: string[] };
  return {
    values,
    nSeeds: Number(shared.seeds),
    budget: Number(shared.budget),
    settings: shared.settings,
    scenarioFiles: shared.scenario,
  };
}

/** Airline, synthetic-12, then each `--scenario FILE`. */
export function probeScenarios(files: readonly string[]): Scenario[] {
  return [loadScenario(AIRLINE_SCENARIO), syntheticScenario(), ...files.map((f) => loadScenario(f))];
}

/**
 * One run of `choice` as bench:optimizers runs it (`budget` rollouts, no teacher-call cap, no
 * early stopping), `hooks` watching its requests; with its rollouts by purpose (digits read as
 * N, so "trial 3 minibatch" counts under "trial N minibatch").
 */
export async function probeSearch(
  h: ScenarioHarness,
  choice: unknown,
  seed: number,
  budget: number,
  hooks: SearchHooks = {},
): Promise<{ outcome: SearchOutcome; purposes: Map<string, number> }> {
  const purposes = new Map<string, number>();
  const { outcome } = await runSearch(
    h,
    choice,
    {
      seed,
      budget: { maxRollouts: budget, maxTeacherCalls: null },
      stopping: { patience: null, minDelta: 0, targetScore: null, maxEvaluations: null },
    },
    {
      ...hooks,
      evaluated(request) {
        const p = request.purpose.replace(/\d+/g, 'N');
        purposes.set(p, (purposes.get(p) ?? 0) + request.exampleIds.length);
        hooks.evaluated?.(request);
      },
    },
  );
  return { outcome, purposes };
}

/** Rollouts spent when the run's pick first scored `target` or more on the test split; null if never. */
export async function rolloutsToTarget(
  h: ScenarioHarness,
  outcome: SearchOutcome,
  target: number,
): Promise<number | null> {
  for (const point of outcome.trajectory) {
    const candidate =
      h.store.candidates.get(point.candidateId) ??
      (point.candidateId === outcome.baselineCandidateId ? h.baseline : undefined);
    if (candidate && (await h.testScore(candidate)) >= target) return point.rollouts;
  }
  return null;
}

/** Per key, the mean over `runs` (a run without the key counts 0), in first-seen key order. */
export function meanCounts(runs: readonly Map<string, number>[]): Map<string, number> {
  const means = new Map<string, number>();
  for (const r of runs) for (const [k, v] of r) means.set(k, (means.get(k) ?? 0) + v / runs.length);
  return means;
}
