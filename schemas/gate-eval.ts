import { z } from 'zod';
import { GateReport } from './gate-report.js';

/** One axis the verdict rests on: an assertion, the dimension and slice it measured. */
export const GateAxis = z.object({
  assertion: z.string(),
  outcome: z.enum(['fail', 'inconclusive']),
  /** null: a structural assertion (enough eval examples, a holdout present). */
  dimension: z.string().nullable(),
  /** null: the whole eval split. */
  slice: z.string().nullable(),
  detail: z.string(),
});
export type GateAxis = z.infer<typeof GateAxis>;

/** Exit codes of `flywheel eval`, as a CI step reads them. */
export const EVAL_EXIT = { pass: 0, fail: 1, inconclusive: 2, error: 3 } as const;

/**
 * What `flywheel eval` decided, as `--json` prints it: the gate's full report, the verdict
 * after `--fail-on`, and the axes that decided it (failing first), never only an aggregate.
 */
export const GateEvalResult = z.object({
  agent: z.string(),
  /** Who ran it, as authentication established it. */
  evaluatedBy: z.string(),
  /** The candidate prompt; `production` when only a coaching set is gated. */
  candidate: z.object({ source: z.enum(['file', 'version', 'label', 'production']), ref: z.string() }),
  production: z.object({ id: z.string(), version: z.number().int() }),
  /**
   * Coaching replayed with each example as production would recall it: the active memories
   * in both arms; with `--coaching candidates`, the candidate memories too in the candidate's.
   */
  coaching: z.object({ active: z.number().int(), candidates: z.number().int().nullable() }),
  dataset: z.object({
    id: z.string(),
    eval: z.number().int(),
    holdout: z.number().int(),
  }),
  /** The gate configuration's origin: the agent's, or the agent's with a file applied over it. */
  gateConfig: z.string(),
  /** Dimensions that fail the build; null: every dimension the gate measures. */
  failOn: z.array(z.string()).nullable(),
  verdict: z.enum(['pass', 'fail', 'inconclusive']),
  exitCode: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  /** Failing, then inconclusive axes that decide the verdict. */
  axes: z.array(GateAxis),
  /** Failing or inconclusive axes left out of the verdict by --fail-on. */
  waived: z.array(GateAxis),
  startedAt: z.string(),
  seconds: z.number(),
  report: GateReport,
});
export type GateEvalResult = z.infer<typeof GateEvalResult>;
