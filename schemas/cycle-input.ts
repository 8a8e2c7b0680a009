import { z } from 'zod';
import { Budget, OptimizerChoice, Stopping } from './optimizer-config.js';
import { RolloutConfig } from './rollout-config.js';
import { GateOverride } from './gate-config.js';

export const CycleInput = z.object({
  agent: z.string().regex(/^[A-Za-z0-9._-]+$/, 'agent ids use letters, digits, dot, dash and underscore'),
  /** Base seed for sampling, splits and the optimizer; the same seed reproduces a cycle. */
  seed: z.number().int().nonnegative().default(1),
  windowDays: z.number().positive().default(7),
  /** Overrides of the agent's sampling policy for this cycle; absent = the agent's. */
  sampleRate: z.number().min(0).max(1).optional(),
  maxSample: z.number().int().positive().optional(),
  maxAnnotationItems: z.number().int().nonnegative().default(20),
  annotationDeadlineSeconds: z
    .number()
    .int()
    .positive()
    .default(2 * 24 * 3600),
  /** A reminder goes to reviewers with open items this often while the queue waits. */
  annotationReminderSeconds: z
    .number()
    .int()
    .positive()
    .default(24 * 3600),
  /** After this long without quorum, the escalation contacts are told too. */
  annotationEscalationSeconds: z
    .number()
    .int()
    .positive()
    .default(36 * 3600),
  /** A claimed item returns to the pool if its reviewer has not labelled it by then. */
  annotationClaimSeconds: z.number().int().positive().default(3600),
  approvalDeadlineSeconds: z
    .number()
    .int()
    .positive()
    .default(3 * 24 * 3600),
  optimizer: z
    .object({
      /** Overrides the agent's configured optimizer for this cycle; null = the agent's. */
      choice: OptimizerChoice.nullable().default(null),
      budget: Budget.prefault({}),
      stopping: Stopping.prefault({}),
      /** Continue-as-new past this many history events (Temporal also suggests it at 4k). */
      maxHistoryEvents: z.number().int().positive().default(2000),
    })
    .prefault({}),
  /**
   * This cycle's override of the agent's gate (agents.config.gate); absent = the agent's.
   * The legacy fields thresholds / maxRegression / minEvalExamples are still accepted.
   */
  gate: GateOverride.optional(),
  /**
   * How long, in minutes, one attempt of an activity that calls models may run: `batchMinutes`
   * for the many-call steps (scoring, diagnosis, the gate, optimizer evaluations; they
   * heartbeat meanwhile), `teacherMinutes` for one optimizer teacher call. Raise them for a
   * slow model server; the defaults are what every cycle ran with before the setting existed.
   */
  modelTimeouts: z
    .object({
      batchMinutes: z.number().positive().default(30),
      teacherMinutes: z.number().positive().default(5),
    })
    .prefault({}),
  /** Argo-style steps and analysis of the staged rollout; every duration is here. */
  rollout: RolloutConfig.prefault({}),
});
export type CycleInput = z.infer<typeof CycleInput>;
export type CycleInputArg = z.input<typeof CycleInput>;

export const CycleStage = z.enum([
  'starting',
  'sampling',
  'scoring',
  'diagnosing',
  'awaiting_annotation',
  'building_dataset',
  'optimizing',
  'gating',
  'awaiting_approval',
  'rolling_out',
  'done',
]);
export type CycleStage = z.infer<typeof CycleStage>;

export const CycleOutcome = z.enum([
  'in_progress',
  'released',
  'rolled_back',
  'gate_failed',
  'no_candidate',
  'rejected',
  'approval_expired',
  /** Reviewers missed the deadline and the agent's policy says to stop rather than use judge labels. */
  'annotation_expired',
  /** Nothing to learn from: no trace in the window, or no training example to optimize on. */
  'no_data',
  /**
   * The sample was scored and nothing failed (no failure to cluster): a good week, not a
   * missing one. Cycles recorded before this outcome say `no_data` there.
   */
  'no_failures',
  /** Failures were found but none is fixable by a prompt: the report recommends the fixes. */
  'recommendations_only',
]);
export type CycleOutcome = z.infer<typeof CycleOutcome>;
