import { z } from 'zod';
import { AnnotationPolicy } from './annotation-policy.js';
import { AttributionRules } from './agent-attribution.js';
import { ApprovalPolicy } from './approval-policy.js';
import { DatasetPolicy } from './dataset-policy.js';
import { EvaluationConfig } from './evaluation-config.js';
import { GateConfig } from './gate-config.js';
import { NotificationConfig } from './notification-config.js';
import { OptimizerChoice } from './optimizer-config.js';
import { OnlineEvaluationConfig } from './online-evaluation-config.js';
import { DriftConfig } from './drift-config.js';
import { RedactionConfig } from './redaction-config.js';
import { SamplingPolicy } from './sampling-policy.js';

export const ToolSchema = z.object({
  name: z.string().min(1),
  description: z.string(),
  parameters: z.record(z.string(), z.unknown()),
});

/** Stored in agents.config; what step replay needs to re-run the agent's LLM step. */
export const AgentConfig = z.object({
  tools: z.array(ToolSchema).default([]),
  /** The optimizer this agent's cycles use and its settings; GEPA with defaults when absent. */
  optimizer: OptimizerChoice.optional(),
  /** How cycles pick this agent's traces: strata, random rate, caps, dedup. */
  sampling: SamplingPolicy.prefault({}),
  /** What is masked before a human or a model sees a sampled trace. */
  redaction: RedactionConfig.prefault({}),
  /**
   * Days of this agent's raw traces to keep. The retention job (daily, and `flywheel traces
   * retention`) deletes the agent's older rows and drops a daily partition once every
   * agent's retention has passed it.
   */
  retentionDays: z.number().int().positive().default(30),
  /**
   * OTLP spans that name no `flywheel.agent` but whose resource matches one of these rules
   * belong to this agent; a token of another agent may not write them (README, Traces).
   */
  attribution: AttributionRules,
  /** Code checks, judge rubrics, the cascade, judge calibration floors and failure clustering. */
  evaluation: EvaluationConfig.prefault({}),
  /** Reviewers, items per reviewer, quorum and the deadline policy of the annotation queue. */
  annotation: AnnotationPolicy.prefault({}),
  /** The regression gate: assertions, weighting floors, non-regression, bootstrap, holdout. */
  gate: GateConfig.prefault({}),
  /** Who may approve a release and how many approvals it needs. */
  approval: ApprovalPolicy.prefault({}),
  /** Slack-compatible webhook for reminders, escalations, approval requests and label moves. */
  notifications: NotificationConfig.prefault({}),
  /** Split proportions, staleness and near-duplicate threshold of the agent's datasets. */
  dataset: DatasetPolicy.prefault({}),
  /** Scoring a share of live traffic as it arrives, within a daily cost cap. */
  online: OnlineEvaluationConfig.prefault({}),
  /** Drift alerts over live traffic: windows, the false-alarm budget, the early cycle. */
  drift: DriftConfig.prefault({}),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

/** What `retentionDays` is when a configuration leaves it out. */
export const DEFAULT_RETENTION_DAYS: number = AgentConfig.shape.retentionDays.parse(undefined);

/**
 * The retention a stored configuration asks for, read on its own: a section that no longer
 * validates elsewhere must not change how long the agent's traces are kept. Absent: the
 * default. Undefined when the stored value itself is invalid.
 */
export function storedRetentionDays(stored: Readonly<Record<string, unknown>>): number | undefined {
  const own = AgentConfig.shape.retentionDays.safeParse(stored.retentionDays);
  return own.success ? own.data : undefined;
}
