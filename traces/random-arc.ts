import { unitInterval } from '../optimizers/stable-hash.js';

/**
 * Where the seeded random share starts on the [0, 1) circle of sample keys. Each seed
 * picks a different but fixed arc, so a cycle re-run selects the same traces and a larger
 * rate extends the arc (samples nest).
 */
export function randomArc(seed: number, rate: number): { start: number; end: number } {
  const start = unitInterval(`sampling-seed:${seed}`);
  return { start, end: start + rate };
}

/** A sample key's distance along the circle from the arc's start. */
export function positionOnArc(sampleKey: number, start: number): number {
  const u = sampleKey - start;
  return u < 0 ? u + 1 : u;
}
