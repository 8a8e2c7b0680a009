import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

// Timestamps read as Date and accept an ISO string on write.
/** A timestamp the caller must give on insert. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamp with a database default (now()): optional on insert. */
type TimestampWithDefault = ColumnType<Date, Date | string | undefined, Date | string>;
/** A nullable timestamp: optional on insert. */
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T = unknown> = ColumnType<T, string, string>;
/** A json column with a database default: optional on insert. */
type JsonWithDefault<T = unknown> = ColumnType<T, string | undefined, string>;

// Each table exports <Name>Row (what a select returns), New<Name> (an insert) and <Name>Update.

// Registry: agents, their configuration, prompts, labels, tokens, audit

export interface AgentsTable {
  id: string;
  display_name: Generated<string>;
  description: Generated<string>;
  config: Json<Record<string, unknown>>;
  created_at: TimestampWithDefault;
}
export type AgentRow = Selectable<AgentsTable>;
export type NewAgent = Insertable<AgentsTable>;
export type AgentUpdate = Updateable<AgentsTable>;

/** One immutable version of an agent's configuration; agents.config is the newest. */
export interface AgentConfigVersionsTable {
  agent_id: string;
  version: number;
  config: Json<Record<string, unknown>>;
  created_by: string;
  reason: string;
  created_at: TimestampWithDefault;
}
export type AgentConfigVersionRow = Selectable<AgentConfigVersionsTable>;
export type NewAgentConfigVersion = Insertable<AgentConfigVersionsTable>;
export type AgentConfigVersionUpdate = Updateable<AgentConfigVersionsTable>;

export interface PromptVersionsTable {
  id: string;
  agent_id: string;
  version: number;
  text: string;
  source: 'seed' | 'optimizer' | 'manual';
  candidate_id: string | null;
  created_at: TimestampWithDefault;
  /** The prompt's name; an agent's system prompt is named after the agent (migration 0008). */
  name: string;
  type: ColumnType<'text' | 'chat', 'text' | 'chat' | undefined, 'text' | 'chat'>;
  /** Chat prompts only; `text` then holds a readable rendering used by diffs. */
  messages: Json<{ role: string; content: string }[]> | null;
  config: JsonWithDefault<Record<string, unknown>>;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  commit_message: string | null;
  created_by: ColumnType<string, string | undefined, string>;
}
export type PromptVersionRow = Selectable<PromptVersionsTable>;
export type NewPromptVersion = Insertable<PromptVersionsTable>;
export type PromptVersionUpdate = Updateable<PromptVersionsTable>;

export interface PromptLabelsTable {
  agent_id: string;
  prompt_name: string;
  label: string;
  prompt_version_id: string;
  updated_at: TimestampWithDefault;
}
export type PromptLabelRow = Selectable<PromptLabelsTable>;
export type NewPromptLabel = Insertable<PromptLabelsTable>;
export type PromptLabelUpdate = Updateable<PromptLabelsTable>;

export interface AgentTokensTable {
  id: string;
  agent_id: string;
  token_sha256: string;
  scopes: string[];
  created_by: string;
  created_at: TimestampWithDefault;
  revoked_at: NullableTimestamp;
}
export type AgentTokenRow = Selectable<AgentTokensTable>;
export type NewAgentToken = Insertable<AgentTokensTable>;
export type AgentTokenUpdate = Updateable<AgentTokensTable>;

export interface AuditLogTable {
  id: Generated<string>;
  actor: string;
  action: string;
  artifact: string;
  detail: Json;
  created_at: TimestampWithDefault;
}
export type AuditLogEntryRow = Selectable<AuditLogTable>;
export type NewAuditLogEntry = Insertable<AuditLogTable>;
export type AuditLogEntryUpdate = Updateable<AuditLogTable>;

// People: users, their role grants, personal tokens and console sessions (migration 0019)

export interface UsersTable {
  /** The user name. */
  id: string;
  display_name: Generated<string>;
  /** scrypt, with its salt and parameters in the string; null: the user signs in with tokens only. */
  password_hash: string | null;
  disabled_at: NullableTimestamp;
  created_at: TimestampWithDefault;
  created_by: string;
}
export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;

export interface UserRoleGrantsTable {
  user_id: string;
  role: string;
  /** null: the role holds for every agent. */
  agent_id: string | null;
  created_at: TimestampWithDefault;
  created_by: string;
}
export type UserRoleGrantRow = Selectable<UserRoleGrantsTable>;
export type NewUserRoleGrant = Insertable<UserRoleGrantsTable>;
export type UserRoleGrantUpdate = Updateable<UserRoleGrantsTable>;

export interface UserTokensTable {
  id: string;
  user_id: string;
  token_sha256: string;
  /** The cap on the user's roles; null: none. */
  role: string | null;
  /** The one agent the token acts for; null: every agent the user's grants reach. */
  agent_id: string | null;
  label: Generated<string>;
  created_at: TimestampWithDefault;
  created_by: string;
  expires_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}
export type UserTokenRow = Selectable<UserTokensTable>;
export type NewUserToken = Insertable<UserTokensTable>;
export type UserTokenUpdate = Updateable<UserTokensTable>;

export interface SessionsTable {
  /** The public id (audit rows, lists); the cookie holds a secret of which only the hash is stored. */
  id: string;
  secret_sha256: string;
  user_id: string;
  created_at: TimestampWithDefault;
  expires_at: Timestamp;
  last_seen_at: TimestampWithDefault;
  revoked_at: NullableTimestamp;
  user_agent: string | null;
  ip: string | null;
}
export type SessionRow = Selectable<SessionsTable>;
export type NewSession = Insertable<SessionsTable>;
export type SessionUpdate = Updateable<SessionsTable>;

// Traces

export interface TracesTable {
  id: string;
  agent_id: string;
  prompt_name: string | null;
  prompt_version: number | null;
  session_id: string | null;
  user_id: string | null;
  started_at: Timestamp;
  ended_at: NullableTimestamp;
  model: string | null;
  status: Generated<string>;
  input: Json;
  output: Json;
  expected: Json | null;
  expected_actions: Json | null;
  feedback: number | null;
  feedback_text: string | null;
  outcome: string | null;
  reward: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  latency_ms: number | null;
  /** The span tree in its stored (message-deduplicated) form; see traces/span-compaction.ts. */
  spans: Json<Record<string, unknown>>;
  attributes: Json<Record<string, unknown>>;
  strata: ColumnType<string[], string[] | undefined, string[]>;
  /** Generated by Postgres from the id: uniform in [0, 1). */
  sample_key: ColumnType<number, never, never>;
  ingested_at: TimestampWithDefault;
}
export type TraceRow = Selectable<TracesTable>;
export type NewTrace = Insertable<TracesTable>;
export type TraceUpdate = Updateable<TracesTable>;

export interface SamplesTable {
  cycle_id: string;
  trace_id: string;
  reason: string;
  reasons: Generated<string[]>;
  /** The trace as humans and models may see it: PII replaced by tokens. */
  redacted: Json<Record<string, unknown>> | null;
  redactions: ColumnType<Record<string, number>, string | undefined, string>;
}
export type SampleRow = Selectable<SamplesTable>;
export type NewSample = Insertable<SamplesTable>;
export type SampleUpdate = Updateable<SamplesTable>;

export interface FeedbackEventsTable {
  id: Generated<string>;
  agent_id: string;
  trace_id: string | null;
  session_id: string | null;
  score: number | null;
  text: string | null;
  outcome: string | null;
  attributes: Json<Record<string, unknown>>;
  matched: number;
  created_at: TimestampWithDefault;
}
export type FeedbackEventRow = Selectable<FeedbackEventsTable>;
export type NewFeedbackEvent = Insertable<FeedbackEventsTable>;
export type FeedbackEventUpdate = Updateable<FeedbackEventsTable>;

// Cycles

export interface CyclesTable {
  id: string;
  agent_id: string;
  run_id: string;
  stage: string;
  outcome: string;
  window_start: Timestamp;
  window_end: Timestamp;
  input: Json;
  started_at: TimestampWithDefault;
  updated_at: TimestampWithDefault;
}
export type CycleRow = Selectable<CyclesTable>;
export type NewCycle = Insertable<CyclesTable>;
export type CycleUpdate = Updateable<CyclesTable>;

// Evaluation

export interface ScoresTable {
  id: Generated<string>;
  /** The cycle that scored the trace; null for a score of online evaluation (migration 0021). */
  cycle_id: string | null;
  trace_id: string;
  evaluator: string;
  dimension: string;
  value: number;
  label: string;
  category: string | null;
  explanation: string;
  source: 'code' | 'judge' | 'human';
  cost_usd: Generated<number>;
  confidence: Generated<number>;
  findings: JsonWithDefault<unknown[]>;
  /** The agent's judge rubric version that produced a judge score; null for other sources. */
  rubric_version: ColumnType<number | null, number | null | undefined, number | null>;
  /** Online scores only: the trace's agent and start, so the drift check reads them by time. */
  agent_id: ColumnType<string | null, string | null | undefined, string | null>;
  trace_started_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: TimestampWithDefault;
}
export type ScoreRow = Selectable<ScoresTable>;
export type NewScore = Insertable<ScoresTable>;
export type ScoreUpdate = Updateable<ScoresTable>;

export interface EvaluatorErrorsTable {
  cycle_id: string;
  trace_id: string;
  evaluator: string;
  dimension: string;
  source: 'code' | 'judge' | 'human';
  error: string;
  rubric_version: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: TimestampWithDefault;
}
export type EvaluatorErrorRow = Selectable<EvaluatorErrorsTable>;
export type NewEvaluatorError = Insertable<EvaluatorErrorsTable>;
export type EvaluatorErrorUpdate = Updateable<EvaluatorErrorsTable>;

export interface JudgeCalibrationsTable {
  cycle_id: string;
  agent_id: string;
  dimension: string;
  labels: number;
  accuracy: number | null;
  kappa: number | null;
  f1: number | null;
  can_gate: boolean;
  reason: string;
  created_at: TimestampWithDefault;
}
export type JudgeCalibrationRow = Selectable<JudgeCalibrationsTable>;
export type NewJudgeCalibration = Insertable<JudgeCalibrationsTable>;
export type JudgeCalibrationUpdate = Updateable<JudgeCalibrationsTable>;

export interface RubricVersionsTable {
  agent_id: string;
  dimension: string;
  version: number;
  rubric: Json<Record<string, unknown>>;
  created_by: string;
  reason: string;
  created_at: TimestampWithDefault;
}
export type RubricVersionRow = Selectable<RubricVersionsTable>;
export type NewRubricVersion = Insertable<RubricVersionsTable>;
export type RubricVersionUpdate = Updateable<RubricVersionsTable>;

export interface RubricPointersTable {
  agent_id: string;
  dimension: string;
  version: number;
  updated_by: string;
  updated_at: TimestampWithDefault;
}
export type RubricPointerRow = Selectable<RubricPointersTable>;
export type NewRubricPointer = Insertable<RubricPointersTable>;
export type RubricPointerUpdate = Updateable<RubricPointersTable>;

// Diagnosis

export interface ClustersTable {
  id: string;
  cycle_id: string;
  category: string;
  size: number;
  agent_id: string | null;
  stable_id: string | null;
  name: Generated<string>;
  centroid: Json<number[]> | null;
  embedder: string | null;
  previous_id: string | null;
  diagnosis: Json | null;
  diagnosis_error: string | null;
  intervention: string | null;
}
export type ClusterRow = Selectable<ClustersTable>;
export type NewCluster = Insertable<ClustersTable>;
export type ClusterUpdate = Updateable<ClustersTable>;

export interface ClusterMembersTable {
  cluster_id: string;
  trace_id: string;
  probability: Generated<number>;
  noise: Generated<boolean>;
}
export type ClusterMemberRow = Selectable<ClusterMembersTable>;
export type NewClusterMember = Insertable<ClusterMembersTable>;
export type ClusterMemberUpdate = Updateable<ClusterMembersTable>;

export interface CycleReportsTable {
  cycle_id: string;
  kind: Generated<string>;
  markdown: string;
  data: Json;
  created_at: TimestampWithDefault;
}
export type CycleReportRow = Selectable<CycleReportsTable>;
export type NewCycleReport = Insertable<CycleReportsTable>;
export type CycleReportUpdate = Updateable<CycleReportsTable>;

// Annotation

export interface AnnotationQueuesTable {
  id: string;
  agent_id: string;
  cycle_id: string;
  name: string;
  reviewers_per_item: number;
  quorum: number;
  claim_seconds: number;
  score_config_ids: ColumnType<string[], string[] | undefined, string[]>;
  status: Generated<'open' | 'complete' | 'closed'>;
  created_at: TimestampWithDefault;
  completed_at: NullableTimestamp;
  notified_at: NullableTimestamp;
}
export type AnnotationQueueRow = Selectable<AnnotationQueuesTable>;
export type NewAnnotationQueue = Insertable<AnnotationQueuesTable>;
export type AnnotationQueueUpdate = Updateable<AnnotationQueuesTable>;

export interface AnnotationItemsTable {
  id: string;
  cycle_id: string;
  trace_id: string;
  cluster_id: string | null;
  judge_label: string;
  judge_category: string | null;
  /** Derived on read as well: an in_progress item whose claims expired is pending again. */
  status: Generated<'pending' | 'in_progress' | 'complete'>;
  created_at: TimestampWithDefault;
  queue_id: string | null;
  judge_explanation: string | null;
  /** Which evaluator kind gave judge_label: `judge`, or `code` where the cascade skipped the judge. */
  verdict_source: string | null;
  failing_step: number | null;
  failing_finding: string | null;
  required_reviews: Generated<number>;
  completed_at: NullableTimestamp;
  consensus_verdict: 'pass' | 'fail' | null;
  disagreement: Generated<boolean>;
}
export type AnnotationItemRow = Selectable<AnnotationItemsTable>;
export type NewAnnotationItem = Insertable<AnnotationItemsTable>;
export type AnnotationItemUpdate = Updateable<AnnotationItemsTable>;

export interface AnnotationAssignmentsTable {
  item_id: string;
  reviewer: string;
  created_at: TimestampWithDefault;
}
export type AnnotationAssignmentRow = Selectable<AnnotationAssignmentsTable>;
export type NewAnnotationAssignment = Insertable<AnnotationAssignmentsTable>;
export type AnnotationAssignmentUpdate = Updateable<AnnotationAssignmentsTable>;

export interface AnnotationClaimsTable {
  item_id: string;
  reviewer: string;
  claimed_at: TimestampWithDefault;
  expires_at: Timestamp;
}
export type AnnotationClaimRow = Selectable<AnnotationClaimsTable>;
export type NewAnnotationClaim = Insertable<AnnotationClaimsTable>;
export type AnnotationClaimUpdate = Updateable<AnnotationClaimsTable>;

export interface AnnotationsTable {
  id: Generated<string>;
  item_id: string;
  reviewer: string;
  verdict: 'pass' | 'fail';
  category: string | null;
  expected: Json | null;
  comment: string | null;
  dimensions: JsonWithDefault<Record<string, 'pass' | 'fail'>>;
  /** Values per score config name, checked against the config when stored. */
  scores: JsonWithDefault<Record<string, number | string | boolean>>;
  /** Slices the reviewer flagged the item with (e.g. `adversarial`); dataset examples carry them. */
  slices: ColumnType<string[], string[] | undefined, string[]>;
  created_at: TimestampWithDefault;
}
export type AnnotationRow = Selectable<AnnotationsTable>;
export type NewAnnotation = Insertable<AnnotationsTable>;
export type AnnotationUpdate = Updateable<AnnotationsTable>;

/** The teacher model's suggested label for an item (migration 0033), asked once and kept. */
export interface LabelSuggestionsTable {
  item_id: string;
  verdict: 'pass' | 'fail';
  category: string | null;
  expected: Json | null;
  reason: string;
  model: string;
  created_at: TimestampWithDefault;
}
export type LabelSuggestionRow = Selectable<LabelSuggestionsTable>;

export interface ScoreConfigsTable {
  id: string;
  agent_id: string | null;
  name: string;
  data_type: 'NUMERIC' | 'CATEGORICAL' | 'BOOLEAN';
  min_value: number | null;
  max_value: number | null;
  categories: Json<{ label: string; value: number }[]> | null;
  description: string | null;
  is_archived: Generated<boolean>;
  created_at: TimestampWithDefault;
}
export type ScoreConfigRow = Selectable<ScoreConfigsTable>;
export type NewScoreConfig = Insertable<ScoreConfigsTable>;
export type ScoreConfigUpdate = Updateable<ScoreConfigsTable>;

// Datasets

export interface DatasetsTable {
  id: string;
  agent_id: string;
  name: string;
  description: Generated<string>;
  split_seed: Generated<number>;
  created_at: TimestampWithDefault;
}
export type DatasetRow = Selectable<DatasetsTable>;
export type NewDataset = Insertable<DatasetsTable>;
export type DatasetUpdate = Updateable<DatasetsTable>;

export interface DatasetVersionsTable {
  id: string;
  agent_id: string;
  version: number;
  /** Filled by a trigger with the agent's default dataset when omitted. */
  dataset_id: ColumnType<string, string | undefined, string>;
  /** Null for imports and retirements. */
  cycle_id: string | null;
  parent_version_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_by: Generated<string>;
  note: Generated<string>;
  /** Once set, a trigger rejects any change to the version, its examples and retirements. */
  published_at: NullableTimestamp;
  decontamination: JsonWithDefault<Record<string, unknown>>;
  created_at: TimestampWithDefault;
}
export type DatasetVersionRow = Selectable<DatasetVersionsTable>;
export type NewDatasetVersion = Insertable<DatasetVersionsTable>;
export type DatasetVersionUpdate = Updateable<DatasetVersionsTable>;

export type DatasetSplit = 'train' | 'eval' | 'holdout';
export interface DatasetExamplesTable {
  id: string;
  dataset_version_id: string;
  /** The example's identity across versions: its source trace, or an imported record's id. */
  example_key: ColumnType<string, string | undefined, string>;
  /** Null for imported examples without a source trace. */
  trace_id: string | null;
  cluster_id: string | null;
  cluster_stable_id: ColumnType<string | null, string | null | undefined, string | null>;
  annotation_id: string | null;
  /** The cycle that promoted the example. */
  cycle_id: ColumnType<string | null, string | null | undefined, string | null>;
  split: DatasetSplit;
  slices: ColumnType<string[], string[] | undefined, string[]>;
  input: Json;
  expected: Json;
  source: Generated<string>;
  /** When the example first entered the dataset (carried across versions). */
  created_at: TimestampWithDefault;
  created_by: Generated<string>;
  origin_version_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Why an example kept out of the gating splits is in train (contamination, near-duplicate). */
  gating_excluded: ColumnType<string | null, string | null | undefined, string | null>;
  /** md5 of input and expected, computed by Postgres. */
  content_hash: ColumnType<string, never, never>;
}
export type DatasetExampleRow = Selectable<DatasetExamplesTable>;
export type NewDatasetExample = Insertable<DatasetExamplesTable>;
export type DatasetExampleUpdate = Updateable<DatasetExamplesTable>;

export interface DatasetRetirementsTable {
  dataset_version_id: string;
  example_key: string;
  example_id: string;
  reason: string;
  retired_by: string;
  created_at: TimestampWithDefault;
}
export type DatasetRetirementRow = Selectable<DatasetRetirementsTable>;
export type NewDatasetRetirement = Insertable<DatasetRetirementsTable>;
export type DatasetRetirementUpdate = Updateable<DatasetRetirementsTable>;

export interface DatasetPointersTable {
  agent_id: string;
  dataset_version_id: string;
  version: number;
  /** The agent's newest dataset version when the pointer was set; a newer one supersedes it. */
  pinned_over: number;
  updated_by: string;
  reason: string;
  updated_at: TimestampWithDefault;
}
export type DatasetPointerRow = Selectable<DatasetPointersTable>;
export type NewDatasetPointer = Insertable<DatasetPointersTable>;
export type DatasetPointerUpdate = Updateable<DatasetPointersTable>;

export interface OptimizationRunExamplesTable {
  run_id: string;
  example_id: string;
  dataset_version_id: string;
  example_key: string;
  content_hash: string;
}
export type OptimizationRunExampleRow = Selectable<OptimizationRunExamplesTable>;
export type NewOptimizationRunExample = Insertable<OptimizationRunExamplesTable>;
export type OptimizationRunExampleUpdate = Updateable<OptimizationRunExamplesTable>;

// Optimization

export interface OptimizationRunsTable {
  id: string;
  cycle_id: string;
  optimizer: string;
  config: Json;
  status: string;
  best_candidate_id: string | null;
  baseline_score: number | null;
  best_score: number | null;
  rollouts: Generated<number>;
  stop_reason: string | null;
  teacher_calls: Generated<number>;
  tokens: Generated<string | number>;
  warnings: ColumnType<unknown, string | undefined, string>;
  trajectory: ColumnType<unknown, string | undefined, string>;
  created_at: TimestampWithDefault;
}
export type OptimizationRunRow = Selectable<OptimizationRunsTable>;
export type NewOptimizationRun = Insertable<OptimizationRunsTable>;
export type OptimizationRunUpdate = Updateable<OptimizationRunsTable>;

export interface CandidatesTable {
  id: string;
  run_id: string;
  prompt_text: string;
  rationale: string;
  parent_id: string | null;
  /** component → prompt_texts.id; null for candidates made outside an optimizer. */
  components: Json | null;
  created_at: TimestampWithDefault;
}
export type CandidateRow = Selectable<CandidatesTable>;
export type NewCandidate = Insertable<CandidatesTable>;
export type CandidateUpdate = Updateable<CandidatesTable>;

export interface PromptTextsTable {
  id: string;
  text: string;
  kind: string;
  created_at: TimestampWithDefault;
}
export type PromptTextRow = Selectable<PromptTextsTable>;
export type NewPromptText = Insertable<PromptTextsTable>;
export type PromptTextUpdate = Updateable<PromptTextsTable>;

export interface CandidateScoresTable {
  candidate_id: string;
  example_id: string;
  score: number;
  output: Json;
}
export type CandidateScoreRow = Selectable<CandidateScoresTable>;
export type NewCandidateScore = Insertable<CandidateScoresTable>;
export type CandidateScoreUpdate = Updateable<CandidateScoresTable>;

// Release

export interface GateReportsTable {
  id: string;
  cycle_id: string;
  candidate_id: string;
  baseline_version_id: string;
  candidate_version_id: string | null;
  passed: boolean;
  failing_assertion: string | null;
  report: Json;
  created_at: TimestampWithDefault;
}
export type GateReportRow = Selectable<GateReportsTable>;
export type NewGateReport = Insertable<GateReportsTable>;
export type GateReportUpdate = Updateable<GateReportsTable>;

export interface ReleaseDecisionsTable {
  id: string;
  cycle_id: string;
  gate_report_id: string;
  decision: 'approved' | 'rejected' | 'expired';
  decided_by: string;
  comment: string | null;
  created_at: TimestampWithDefault;
}
export type ReleaseDecisionRow = Selectable<ReleaseDecisionsTable>;
export type NewReleaseDecision = Insertable<ReleaseDecisionsTable>;
export type ReleaseDecisionUpdate = Updateable<ReleaseDecisionsTable>;

export interface ApprovalsTable {
  id: Generated<string>;
  cycle_id: string;
  approver: string;
  decision: 'approved' | 'rejected';
  comment: string | null;
  created_at: TimestampWithDefault;
}
export type ApprovalRow = Selectable<ApprovalsTable>;
export type NewApproval = Insertable<ApprovalsTable>;
export type ApprovalUpdate = Updateable<ApprovalsTable>;

export interface RolloutsTable {
  id: string;
  /** null: started by an operator outside a cycle. */
  cycle_id: string | null;
  agent_id: string;
  release_decision_id: string | null;
  baseline_version_id: string;
  candidate_version_id: string;
  weight: number;
  /** `running` covers paused too: resolve keeps serving the weight while a human looks. */
  status: 'running' | 'completed' | 'rolled_back';
  reason: string | null;
  started_at: TimestampWithDefault;
  ended_at: NullableTimestamp;
  workflow_id: string | null;
  config: JsonWithDefault;
  phase: Generated<'progressing' | 'paused' | 'completed' | 'rolled_back'>;
  paused_reason: string | null;
  step_index: Generated<number>;
  created_by: Generated<string>;
  /** The coaching set the rollout carries, [{ id, version }] (migration 0029); null: none. */
  coaching: ColumnType<unknown, string | null | undefined, string | null>;
}
export type RolloutRow = Selectable<RolloutsTable>;
export type NewRollout = Insertable<RolloutsTable>;
export type RolloutUpdate = Updateable<RolloutsTable>;

export interface RolloutStepsTable {
  rollout_id: string;
  step_index: number;
  round: number;
  weight: number;
  /** analysis | replay | shadow */
  kind: Generated<string>;
  verdict: string;
  metrics: Json;
  created_at: TimestampWithDefault;
}
export type RolloutStepRow = Selectable<RolloutStepsTable>;
export type NewRolloutStep = Insertable<RolloutStepsTable>;
export type RolloutStepUpdate = Updateable<RolloutStepsTable>;

export interface RolloutShadowResultsTable {
  rollout_id: string;
  step_index: number;
  trace_id: string;
  candidate_output: Json;
  candidate_pass: boolean;
  baseline_pass: boolean;
  created_at: TimestampWithDefault;
}
export type RolloutShadowResultRow = Selectable<RolloutShadowResultsTable>;
export type NewRolloutShadowResult = Insertable<RolloutShadowResultsTable>;
export type RolloutShadowResultUpdate = Updateable<RolloutShadowResultsTable>;

// Notifications and the LLM response cache

export interface NotificationsTable {
  id: Generated<string>;
  agent_id: string;
  cycle_id: string | null;
  event: string;
  url: string | null;
  payload: Json;
  delivered: boolean;
  status: number | null;
  error: string | null;
  created_at: TimestampWithDefault;
}
export type NotificationRow = Selectable<NotificationsTable>;
export type NewNotification = Insertable<NotificationsTable>;
export type NotificationUpdate = Updateable<NotificationsTable>;

export interface LlmCacheTable {
  key: string;
  response: Json;
  created_at: TimestampWithDefault;
}
export type LlmCacheEntryRow = Selectable<LlmCacheTable>;
export type NewLlmCacheEntry = Insertable<LlmCacheTable>;
export type LlmCacheEntryUpdate = Updateable<LlmCacheTable>;

/** A span event sent as an OTLP log record before its span was stored (`POST /v1/logs`). */
export interface PendingSpanEventsTable {
  id: Generated<string>;
  agent_id: string;
  trace_id: string;
  span_id: string;
  event: Json<Record<string, unknown>>;
  received_at: TimestampWithDefault;
}
export type PendingSpanEventRow = Selectable<PendingSpanEventsTable>;

// Coaching memories (migration 0022)
export interface CoachingTable {
  id: string;
  agent_id: string;
  /** The version in force; a rollback moves it. */
  version: number;
  created_at: TimestampWithDefault;
  changed_at: TimestampWithDefault;
}
export type CoachingRow = Selectable<CoachingTable>;
export type NewCoaching = Insertable<CoachingTable>;
export type CoachingUpdate = Updateable<CoachingTable>;

export interface CoachingVersionsTable {
  coaching_id: string;
  version: number;
  situation: string;
  embedding: number[];
  embedder: string;
  behaviour: Json<Record<string, unknown>>;
  example: string | null;
  source_trace_id: string | null;
  source_step: number | null;
  threshold: number;
  status: string;
  created_by: string;
  reason: string;
  created_at: TimestampWithDefault;
  /** The threshold the author chose when reviewers' marks set `threshold` (migration 0028); null: the same. */
  author_threshold: ColumnType<number | null, number | null | undefined, number | null>;
  /** How a threshold nobody set was chosen (migration 0032); null: the author set it. */
  threshold_calibration: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
}
export type CoachingVersionRow = Selectable<CoachingVersionsTable>;
export type NewCoachingVersion = Insertable<CoachingVersionsTable>;
export type CoachingVersionUpdate = Updateable<CoachingVersionsTable>;

/** Reviewers' "correctly / wrongly applied" marks on a coaching's applications (migration 0028). */
export interface CoachingMarksTable {
  coaching_id: string;
  trace_id: string;
  reviewer: string;
  verdict: 'correct' | 'wrong';
  /** The coaching version the trace applied. */
  applied_version: number;
  /** Cosine similarity of the trace's conversation to the coaching's situation. */
  similarity: number;
  embedder: string;
  comment: string | null;
  threshold_before: number;
  threshold_after: number;
  created_at: TimestampWithDefault;
  updated_at: TimestampWithDefault;
}
export type CoachingMarkRow = Selectable<CoachingMarksTable>;
export type NewCoachingMark = Insertable<CoachingMarksTable>;

// Online evaluation and drift alerts (migration 0021)
export interface OnlineEvaluationRunsTable {
  id: Generated<string>;
  agent_id: string;
  /** The scheduled run that did it: a retried activity records its run once. */
  run_key: string;
  window_start: Timestamp;
  window_end: Timestamp;
  considered: number;
  sampled: number;
  scored: number;
  failing: number;
  skipped_for_cap: number;
  judge_calls: number;
  tokens: number;
  cost_usd: number;
  created_at: TimestampWithDefault;
}
export type OnlineEvaluationRunRow = Selectable<OnlineEvaluationRunsTable>;
export type NewOnlineEvaluationRun = Insertable<OnlineEvaluationRunsTable>;

export interface OnlineEvaluatedTracesTable {
  trace_id: string;
  agent_id: string;
  trace_started_at: Timestamp;
  run_key: string;
  failing: boolean;
  judged: boolean;
  skipped_for_cap: boolean;
  judge_calls: number;
  tokens: number;
  cost_usd: number;
  evaluated_at: TimestampWithDefault;
}
export type NewOnlineEvaluatedTrace = Insertable<OnlineEvaluatedTracesTable>;

export interface DriftStatesTable {
  agent_id: string;
  epoch_start: Timestamp;
  prototypes: Json<number[][]> | null;
  last_check_at: NullableTimestamp;
  last_check: Json<Record<string, unknown>> | null;
}
export type DriftStateRow = Selectable<DriftStatesTable>;

export interface DriftAlertsTable {
  id: string;
  agent_id: string;
  at: Timestamp;
  reference_start: Timestamp;
  current_start: Timestamp;
  findings: Json<unknown[]>;
  drifted_trace_ids: Json<string[]>;
  tests_counted: number;
  cycle_id: string | null;
  notified: Generated<boolean>;
  created_at: TimestampWithDefault;
}
export type DriftAlertRow = Selectable<DriftAlertsTable>;

/** Each watched trace's input embedding, stored once per embedding model (migration 0026). */
export interface DriftInputEmbeddingsTable {
  agent_id: string;
  trace_id: string;
  trace_started_at: Timestamp;
  model: string;
  /** A unit vector. */
  embedding: number[];
}
export type NewDriftAlert = Insertable<DriftAlertsTable>;

export interface Database {
  // Registry: agents, their configuration, prompts, labels, tokens, audit
  agents: AgentsTable;
  agent_config_versions: AgentConfigVersionsTable;
  prompt_versions: PromptVersionsTable;
  prompt_labels: PromptLabelsTable;
  agent_tokens: AgentTokensTable;
  audit_log: AuditLogTable;
  // People
  users: UsersTable;
  user_role_grants: UserRoleGrantsTable;
  user_tokens: UserTokensTable;
  sessions: SessionsTable;
  // Traces
  traces: TracesTable;
  samples: SamplesTable;
  feedback_events: FeedbackEventsTable;
  pending_span_events: PendingSpanEventsTable;
  // Cycles
  cycles: CyclesTable;
  // Evaluation
  scores: ScoresTable;
  online_evaluation_runs: OnlineEvaluationRunsTable;
  online_evaluated_traces: OnlineEvaluatedTracesTable;
  drift_states: DriftStatesTable;
  drift_alerts: DriftAlertsTable;
  drift_input_embeddings: DriftInputEmbeddingsTable;
  evaluator_errors: EvaluatorErrorsTable;
  judge_calibrations: JudgeCalibrationsTable;
  rubric_versions: RubricVersionsTable;
  rubric_pointers: RubricPointersTable;
  // Diagnosis
  clusters: ClustersTable;
  cluster_members: ClusterMembersTable;
  cycle_reports: CycleReportsTable;
  // Annotation
  annotation_queues: AnnotationQueuesTable;
  annotation_items: AnnotationItemsTable;
  annotation_assignments: AnnotationAssignmentsTable;
  annotation_claims: AnnotationClaimsTable;
  annotations: AnnotationsTable;
  label_suggestions: LabelSuggestionsTable;
  score_configs: ScoreConfigsTable;
  // Datasets
  datasets: DatasetsTable;
  dataset_versions: DatasetVersionsTable;
  dataset_examples: DatasetExamplesTable;
  dataset_retirements: DatasetRetirementsTable;
  dataset_pointers: DatasetPointersTable;
  optimization_run_examples: OptimizationRunExamplesTable;
  // Optimization
  optimization_runs: OptimizationRunsTable;
  candidates: CandidatesTable;
  prompt_texts: PromptTextsTable;
  candidate_scores: CandidateScoresTable;
  // Release
  gate_reports: GateReportsTable;
  release_decisions: ReleaseDecisionsTable;
  approvals: ApprovalsTable;
  rollouts: RolloutsTable;
  rollout_steps: RolloutStepsTable;
  rollout_shadow_results: RolloutShadowResultsTable;
  // Notifications and the LLM response cache
  notifications: NotificationsTable;
  llm_cache: LlmCacheTable;
  // Coaching
  coaching: CoachingTable;
  coaching_versions: CoachingVersionsTable;
  coaching_marks: CoachingMarksTable;
}

// Older names, still imported across the codebase.
export type Trace = TraceRow;
export type PromptVersion = PromptVersionRow;
