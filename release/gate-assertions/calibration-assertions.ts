import type { Draft, GateContext } from './gate-context.js';

/** One inconclusive assertion per judge that cannot gate, so the report says why. */
export function calibrationAssertions({ uncalibrated }: GateContext): Draft[] {
  return Object.keys(uncalibrated)
    .sort()
    .map((d) => ({
      name: `calibration:${d}`,
      kind: 'calibration',
      dimension: d,
      passed: false,
      inconclusive: true,
      detail: `the ${d} judge cannot gate: ${uncalibrated[d]}`,
      rests: [],
    }));
}
