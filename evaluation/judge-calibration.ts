/**
 * How far a judge dimension agrees with human reviewers. A judge is only allowed to gate
 * while its agreement stays above a floor: a 0.6-F1 judge blocking or waving through a
 * release is worse than asking a person.
 */
export type BinaryLabel = 'pass' | 'fail';

export interface LabelPair {
  judge: BinaryLabel;
  human: BinaryLabel;
}

export interface Agreement {
  labels: number;
  accuracy: number | null;
  /** Cohen's κ: agreement beyond what the two label rates would give by chance. */
  kappa: number | null;
  /** F1 of the judge at finding failures (`fail` is the positive class), humans as truth. */
  f1: number | null;
}

export function agreement(pairs: readonly LabelPair[]): Agreement {
  const n = pairs.length;
  if (n === 0) return { labels: 0, accuracy: null, kappa: null, f1: null };
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const p of pairs) {
    if (p.judge === 'fail' && p.human === 'fail') tp++;
    else if (p.judge === 'fail') fp++;
    else if (p.human === 'fail') fn++;
    else tn++;
  }
  const observed = (tp + tn) / n;
  const judgeFail = (tp + fp) / n;
  const humanFail = (tp + fn) / n;
  const expected = judgeFail * humanFail + (1 - judgeFail) * (1 - humanFail);
  // Both raters constant and equal: perfect agreement, but κ is 0/0. Report 1 when they
  // agree on everything, else 0 (no agreement beyond chance can be shown).
  const kappa = expected === 1 ? (observed === 1 ? 1 : 0) : (observed - expected) / (1 - expected);
  const f1 = tp + fp + fn === 0 ? null : (2 * tp) / (2 * tp + fp + fn);
  return { labels: n, accuracy: observed, kappa, f1 };
}

export interface CalibrationFloor {
  /** Fewer human labels than this: too little evidence, the judge cannot gate. */
  minLabels: number;
  minKappa: number;
  minF1?: number | undefined;
}

export interface DimensionCalibration extends Agreement {
  dimension: string;
  canGate: boolean;
  reason: string;
}

const fmt = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));

export function calibrate(
  dimension: string,
  pairs: readonly LabelPair[],
  floor: CalibrationFloor,
): DimensionCalibration {
  const a = agreement(pairs);
  const base = { dimension, ...a };
  if (a.labels < floor.minLabels) {
    return { ...base, canGate: false, reason: `${a.labels} human labels (need ≥ ${floor.minLabels})` };
  }
  if ((a.kappa ?? -1) < floor.minKappa) {
    return { ...base, canGate: false, reason: `κ ${fmt(a.kappa)} below the floor ${fmt(floor.minKappa)}` };
  }
  if (floor.minF1 !== undefined && (a.f1 ?? 0) < floor.minF1) {
    return { ...base, canGate: false, reason: `F1 ${fmt(a.f1)} below the floor ${fmt(floor.minF1)}` };
  }
  return {
    ...base,
    canGate: true,
    reason: `κ ${fmt(a.kappa)}, F1 ${fmt(a.f1)}, accuracy ${fmt(a.accuracy)} on ${a.labels} labels`,
  };
}
