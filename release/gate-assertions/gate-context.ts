import type { GateConfig } from '../../schemas/gate-config.js';
import type { GateAssertionResult } from '../../schemas/gate-report.js';
import type { MeanInterval } from '../paired-bootstrap.js';
import type { ExampleScores } from '../gate-score-table.js';

/** What every assertion of one gate reads, computed once by the dispatcher. */
export interface GateContext {
  config: GateConfig;
  /** Judge dimensions whose agreement with reviewers is below the floor, with the reason. */
  uncalibrated: Readonly<Record<string, string>>;
  /** Dimensions measured on either side, without the composite. */
  measured: readonly string[];
  /** Whether the weighting policy makes a composite of the measured dimensions. */
  composed: boolean;
  /** The eval split of each side, the composite included. */
  candEval: readonly ExampleScores[];
  baseEval: readonly ExampleScores[];
  candMeans: Readonly<Record<string, number>>;
  baseMeans: Readonly<Record<string, number>>;
  /** Distinct eval examples of the candidate. */
  evalExamples: number;
  /** One paired interval per dimension on the eval split, shared by every assertion citing it. */
  evalIntervals: ReadonlyMap<string, MeanInterval | null>;
  /** Per dimension, the smallest gain the eval split could detect (80 % power); null unmeasured. */
  minimumDetectableEffect: Readonly<Record<string, number | null>>;
  /** The dimensions an assertion on `d` rests on: the composite rests on its weighted parts. */
  rests: (d: string) => readonly string[];
}

/** An assertion while it is built: the dimensions it rests on decide calibration. */
export type Draft = GateAssertionResult & { rests: readonly string[] };

export const f3 = (x: number) => x.toFixed(3);
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
export const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
export const ciText = (iv: MeanInterval, confidence: number) =>
  `Δ ${signed(iv.mean)} [${Math.round(confidence * 100)}% CI ${signed(iv.ci[0])}, ${signed(iv.ci[1])}]`;

/** Neither passed nor failed: nothing to judge the assertion on. */
export const notMeasured = (name: string, kind: string, d: string): Draft => ({
  name,
  kind,
  dimension: d,
  passed: false,
  inconclusive: true,
  detail: `${d} was not measured on any eval example`,
  rests: [],
});
