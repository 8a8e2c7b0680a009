import { unitInterval } from './stable-hash.js';

export type Split = 'train' | 'eval';

/**
 * Deterministic split by hash of the source trace, so a trace keeps its split across
 * dataset versions and nothing the optimizer trained on can leak into the gate.
 */
export function assignSplit(traceId: string, seed: number, evalFraction = 0.4): Split {
  return unitInterval(`split:${traceId}`, seed) < evalFraction ? 'eval' : 'train';
}
