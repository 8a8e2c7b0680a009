import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T = unknown> = ColumnType<T, string, string>;

export interface AgentsTable {
  id: string;
  description: Generated<string>;
  config: Json<Record<string, unknown>>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface PromptVersionsTable {
  id: string;
  agent_id: string;
  version: number;
  text: string;
  source: 'seed' | 'optimizer' | 'manual';
  candidate_id: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface PromptLabelsTable {
  agent_id: string;
  label: string;
  prompt_version_id: string;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface TracesTable {
  id: string;
  agent_id: string;
  prompt_version: number | null;
  session_id: string | null;
  user_id: string | null;
  started_at: Timestamp;
  input: Json;
  output: Json;
  expected: Json | null;
  feedback: number | null;
  feedback_text: string | null;
  outcome: string | null;
  attributes: Json<Record<string, unknown>>;
  ingested_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface CyclesTable {
  id: string;
  agent_id: string;
  run_id: string;
  stage: string;
  outcome: string;
  window_start: Timestamp;
  window_end: Timestamp;
  input: Json;
  started_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface SamplesTable {
  cycle_id: string;
  trace_id: string;
  reason: string;
}
export interface ScoresTable {
  id: Generated<string>;
  cycle_id: string;
  trace_id: string;
  dimension: string;
  value: number;
  label: string;
  category: string | null;
  explanation: string;
  source: 'code' | 'judge' | 'human';
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface ClustersTable {
  id: string;
  cycle_id: string;
  category: string;
  size: number;
}
export interface ClusterMembersTable {
  cluster_id: string;
  trace_id: string;
}
export interface AnnotationItemsTable {
  id: string;
  cycle_id: string;
  trace_id: string;
  cluster_id: string | null;
  judge_label: string;
  judge_category: string | null;
  status: Generated<'pending' | 'labelled'>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface AnnotationsTable {
  id: Generated<string>;
  item_id: string;
  reviewer: string;
  verdict: 'pass' | 'fail';
  category: string | null;
  expected: Json | null;
  comment: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface DatasetVersionsTable {
  id: string;
  agent_id: string;
  version: number;
  cycle_id: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface DatasetExamplesTable {
  id: string;
  dataset_version_id: string;
  trace_id: string;
  cluster_id: string | null;
  annotation_id: string | null;
  split: 'train' | 'eval';
  input: Json;
  expected: Json;
}
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
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface PromptTextsTable {
  id: string;
  text: string;
  kind: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface CandidatesTable {
  id: string;
  run_id: string;
  prompt_text: string;
  rationale: string;
  parent_id: string | null;
  /** component → prompt_texts.id; null for candidates made outside an optimizer. */
  components: Json | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface CandidateScoresTable {
  candidate_id: string;
  example_id: string;
  score: number;
  output: Json;
}
export interface GateReportsTable {
  id: string;
  cycle_id: string;
  candidate_id: string;
  baseline_version_id: string;
  candidate_version_id: string | null;
  passed: boolean;
  failing_assertion: string | null;
  report: Json;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface ReleaseDecisionsTable {
  id: string;
  cycle_id: string;
  gate_report_id: string;
  decision: 'approved' | 'rejected' | 'expired';
  decided_by: string;
  comment: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface RolloutsTable {
  id: string;
  cycle_id: string;
  agent_id: string;
  release_decision_id: string;
  baseline_version_id: string;
  candidate_version_id: string;
  weight: number;
  status: 'running' | 'completed' | 'rolled_back';
  reason: string | null;
  started_at: ColumnType<Date, Date | string | undefined, Date | string>;
  ended_at: Timestamp | null;
}
export interface RolloutStepsTable {
  rollout_id: string;
  step_index: number;
  round: number;
  weight: number;
  verdict: string;
  metrics: Json;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface AuditLogTable {
  id: Generated<string>;
  actor: string;
  action: string;
  artifact: string;
  detail: Json;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export interface LlmCacheTable {
  key: string;
  response: Json;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface Database {
  agents: AgentsTable;
  prompt_versions: PromptVersionsTable;
  prompt_labels: PromptLabelsTable;
  traces: TracesTable;
  cycles: CyclesTable;
  samples: SamplesTable;
  scores: ScoresTable;
  clusters: ClustersTable;
  cluster_members: ClusterMembersTable;
  annotation_items: AnnotationItemsTable;
  annotations: AnnotationsTable;
  dataset_versions: DatasetVersionsTable;
  dataset_examples: DatasetExamplesTable;
  optimization_runs: OptimizationRunsTable;
  candidates: CandidatesTable;
  prompt_texts: PromptTextsTable;
  candidate_scores: CandidateScoresTable;
  gate_reports: GateReportsTable;
  release_decisions: ReleaseDecisionsTable;
  rollouts: RolloutsTable;
  rollout_steps: RolloutStepsTable;
  audit_log: AuditLogTable;
  llm_cache: LlmCacheTable;
}

export type Trace = Selectable<TracesTable>;
export type NewTrace = Insertable<TracesTable>;
export type PromptVersion = Selectable<PromptVersionsTable>;
