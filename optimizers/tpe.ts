import {
  buildParzenEstimator,
  defaultGamma,
  hyperoptGamma,
  parzenLogPdf,
  sampleParzen,
  type ParzenParameters,
} from './parzen-estimator.js';
import { seedPrng, type PrngState } from './prng.js';
import {
  sampleUniform,
  toExternal,
  toInternal,
  validateSpace,
  type ParamValue,
  type SearchSpace,
} from './search-space.js';

/**
 * Tree-structured Parzen Estimator with Optuna 4.x semantics, as an ask/tell state machine
 * whose whole state is JSON: random startup trials, a split of finished trials into the
 * best gamma(n) ("below") and the rest ("above"), one Parzen estimator for each, and the
 * candidate among `nEiCandidates` draws from l(x) that maximises log l(x) − log g(x).
 * Independent (per-parameter) mode is the default, multivariate mode models the joint
 * density, and the constant liar counts running trials as "above" so parallel asks spread.
 */
export interface TpeConfig {
  seed: number;
  direction: 'minimize' | 'maximize';
  nStartupTrials: number;
  nEiCandidates: number;
  gamma: 'optuna' | 'hyperopt';
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  multivariate: boolean;
  constantLiar: boolean;
}

export const TPE_DEFAULTS: Omit<TpeConfig, 'seed'> = {
  direction: 'minimize',
  nStartupTrials: 10,
  nEiCandidates: 24,
  gamma: 'optuna',
  priorWeight: 1,
  considerMagicClip: true,
  considerEndpoints: false,
  multivariate: false,
  constantLiar: false,
};

/** The hyperopt preset: more random startup trials and hyperopt's gamma. */
export const HYPEROPT_PRESET: Partial<TpeConfig> = { nStartupTrials: 20, gamma: 'hyperopt' };

export interface TpeTrial {
  number: number;
  /** Internal values (choice index for categoricals), one per parameter in space order. */
  internal: number[];
  state: 'running' | 'complete' | 'failed';
  value: number | null;
}

export interface TpeState {
  kind: 'tpe';
  config: TpeConfig;
  space: SearchSpace;
  prng: PrngState;
  trials: TpeTrial[];
}

export interface TpeSuggestion {
  trialNumber: number;
  params: Record<string, ParamValue>;
}

export function initTpe(space: SearchSpace, config: Partial<TpeConfig> & { seed: number }): TpeState {
  validateSpace(space);
  const full: TpeConfig = { ...TPE_DEFAULTS, ...config };
  if (!(full.nEiCandidates >= 1)) throw new Error('nEiCandidates must be at least 1');
  if (!(full.priorWeight > 0)) throw new Error('priorWeight must be positive (as in Optuna)');
  return { kind: 'tpe', config: full, space, prng: seedPrng(full.seed), trials: [] };
}

const parzenParameters = (c: TpeConfig): ParzenParameters => ({
  priorWeight: c.priorWeight,
  considerMagicClip: c.considerMagicClip,
  considerEndpoints: c.considerEndpoints,
  multivariate: c.multivariate,
});

/**
 * Splits the considered trials like Optuna's `_split_trials`: finished trials sorted by
 * value (stable, so ties keep trial order), the best gamma(n) below; running trials (only
 * passed in under the constant liar) always above. Both lists come back in trial order.
 */
export function splitTrials(
  trials: readonly TpeTrial[],
  nBelow: number,
  direction: TpeConfig['direction'],
): { below: TpeTrial[]; above: TpeTrial[] } {
  const complete = trials.filter((t) => t.state === 'complete');
  const running = trials.filter((t) => t.state === 'running');
  const sign = direction === 'minimize' ? 1 : -1;
  const sorted = [...complete].sort((a, b) => sign * (a.value! - b.value!));
  const byNumber = (a: TpeTrial, b: TpeTrial) => a.number - b.number;
  return {
    below: sorted.slice(0, nBelow).sort(byNumber),
    above: [...sorted.slice(nBelow), ...running].sort(byNumber),
  };
}

/** Starts a trial: returns its parameters and registers it as running until `tellTpe`. */
export function askTpe(state: TpeState): TpeSuggestion {
  const { config, space, prng } = state;
  const names = Object.keys(space);
  const finished = state.trials.filter((t) => t.state === 'complete');
  let internal: number[];
  if (finished.length < config.nStartupTrials) {
    internal = names.map((n) => sampleUniform(space[n]!, prng));
  } else {
    const considered = state.trials.filter(
      (t) => t.state === 'complete' || (config.constantLiar && t.state === 'running'),
    );
    const gamma = config.gamma === 'optuna' ? defaultGamma : hyperoptGamma;
    const { below, above } = splitTrials(considered, gamma(finished.length), config.direction);
    const groups = config.multivariate ? [names.map((_, i) => i)] : names.map((_, i) => [i]);
    internal = new Array<number>(names.length);
    for (const group of groups) {
      const sub: SearchSpace = Object.fromEntries(group.map((i) => [names[i]!, space[names[i]!]!]));
      const observe = (ts: TpeTrial[]) =>
        Object.fromEntries(group.map((i) => [names[i]!, ts.map((t) => t.internal[i]!)]));
      const l = buildParzenEstimator(observe(below), sub, parzenParameters(config));
      const g = buildParzenEstimator(observe(above), sub, parzenParameters(config));
      const candidates = sampleParzen(l, prng, config.nEiCandidates);
      const lBelow = parzenLogPdf(l, candidates);
      const lAbove = parzenLogPdf(g, candidates);
      let best = 0;
      for (let k = 1; k < candidates.length; k++) {
        if (lBelow[k]! - lAbove[k]! > lBelow[best]! - lAbove[best]!) best = k;
      }
      group.forEach((i, j) => (internal[i] = candidates[best]![j]!));
    }
  }
  const trial: TpeTrial = { number: state.trials.length, internal, state: 'running', value: null };
  state.trials.push(trial);
  return { trialNumber: trial.number, params: paramsOf(state, trial) };
}

/** Finishes a trial with its objective value, or `null` when it failed (failed trials are ignored). */
export function tellTpe(state: TpeState, trialNumber: number, value: number | null): void {
  const trial = state.trials[trialNumber];
  if (!trial) throw new Error(`trial ${trialNumber} was never asked`);
  if (trial.state !== 'running') throw new Error(`trial ${trialNumber} was already told (${trial.state})`);
  if (value === null || !Number.isFinite(value)) {
    trial.state = 'failed';
    return;
  }
  trial.state = 'complete';
  trial.value = value;
}

/**
 * Adds a finished trial whose parameters were chosen elsewhere (a known-good default, a
 * re-evaluation): as Optuna's `study.add_trial`, it counts toward startup and the split.
 */
export function addTpeTrial(state: TpeState, params: Record<string, ParamValue>, value: number): number {
  const internal = Object.entries(state.space).map(([name, d]) => {
    const v = params[name];
    if (v === undefined) throw new Error(`add_trial: parameter ${name} is missing`);
    return toInternal(d, v);
  });
  state.trials.push({ number: state.trials.length, internal, state: 'complete', value });
  return state.trials.length - 1;
}

export function paramsOf(state: TpeState, trial: TpeTrial): Record<string, ParamValue> {
  const names = Object.keys(state.space);
  return Object.fromEntries(names.map((n, i) => [n, toExternal(state.space[n]!, trial.internal[i]!)]));
}

export function bestTpeTrial(state: TpeState): TpeTrial | null {
  const sign = state.config.direction === 'minimize' ? 1 : -1;
  let best: TpeTrial | null = null;
  for (const t of state.trials) {
    if (t.state !== 'complete') continue;
    if (!best || sign * (t.value! - best.value!) < 0) best = t;
  }
  return best;
}
