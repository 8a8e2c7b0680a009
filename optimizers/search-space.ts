import { nextFloat, type PrngState } from './prng.js';

/**
 * Search-space distributions with Optuna's semantics. Every parameter has an internal
 * numeric representation: the value itself for float/int, the choice index for
 * categorical. Samplers work on internal values; `toExternal` gives what the caller sees.
 */
export type Distribution =
  | { type: 'float'; low: number; high: number; log?: boolean; step?: number | null }
  | { type: 'int'; low: number; high: number; log?: boolean; step?: number }
  | { type: 'categorical'; choices: readonly (string | number | boolean)[] };

export type SearchSpace = Record<string, Distribution>;
export type ParamValue = string | number | boolean;

/** Throws a message naming the parameter when a distribution cannot be sampled. */
export function validateSpace(space: SearchSpace): void {
  const names = Object.keys(space);
  if (names.length === 0) throw new Error('search space is empty: give at least one parameter');
  for (const [name, d] of Object.entries(space)) {
    if (d.type === 'categorical') {
      if (d.choices.length === 0) throw new Error(`parameter ${name}: categorical needs at least one choice`);
      continue;
    }
    if (!(d.low <= d.high)) throw new Error(`parameter ${name}: low ${d.low} must be <= high ${d.high}`);
    if (d.log && d.low <= 0) throw new Error(`parameter ${name}: log scale needs low > 0, got ${d.low}`);
    const step = stepOf(d);
    if (d.log && step !== null && d.type === 'float')
      throw new Error(`parameter ${name}: a float cannot have both log and step (as in Optuna)`);
    if (step !== null && !(step > 0)) throw new Error(`parameter ${name}: step must be > 0`);
    if (d.type === 'int' && (!Number.isInteger(d.low) || !Number.isInteger(d.high)))
      throw new Error(`parameter ${name}: int bounds must be integers`);
  }
}

/** The grid step: ints default to 1 (as Optuna's IntDistribution), floats to continuous. */
export function stepOf(d: Exclude<Distribution, { type: 'categorical' }>): number | null {
  if (d.type === 'int') return d.step ?? 1;
  return d.step ?? null;
}

export function toExternal(d: Distribution, internal: number): ParamValue {
  if (d.type === 'categorical') return d.choices[internal]!;
  if (d.type === 'int') return Math.round(internal);
  return internal;
}

export function toInternal(d: Distribution, value: ParamValue): number {
  if (d.type === 'categorical') {
    const i = d.choices.indexOf(value);
    if (i < 0) throw new Error(`value ${String(value)} is not one of the choices`);
    return i;
  }
  if (typeof value !== 'number') throw new Error(`expected a number, got ${String(value)}`);
  return value;
}

/** Rounds onto the step grid anchored at `low` and clips into range. */
export function snapToGrid(x: number, low: number, high: number, step: number): number {
  return Math.min(high, Math.max(low, low + roundHalfEven((x - low) / step) * step));
}

/**
 * A uniform draw, as Optuna's RandomSampler does it: uniform in (log-)space widened by
 * half a step on each side for gridded parameters, then snapped to the grid.
 */
export function sampleUniform(d: Distribution, prng: PrngState): number {
  if (d.type === 'categorical') return Math.floor(nextFloat(prng) * d.choices.length);
  const step = stepOf(d);
  const half = step === null ? 0 : step / 2;
  let low = d.low - half;
  let high = d.high + half;
  if (d.log) {
    low = Math.log(low);
    high = Math.log(high);
  }
  let x = low + nextFloat(prng) * (high - low);
  if (d.log) x = Math.exp(x);
  return step === null ? Math.min(d.high, Math.max(d.low, x)) : snapToGrid(x, d.low, d.high, step);
}

/** numpy's `round`: halves go to the even neighbour, so grid snapping matches Optuna. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
