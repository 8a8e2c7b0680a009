import type { CycleOutcome, CycleStage } from './cycle-input.js';

export interface StageRecord {
  stage: CycleStage;
  startedAt: string;
  summary?: string;
}

/** The live view returned by the `status` query; small by design (IDs and counts only). */
export interface CycleStatus {
  cycleId: string;
  agent: string;
  stage: CycleStage;
  outcome: CycleOutcome;
  stages: StageRecord[];
  sample?: { sampled: number; negative: number; random: number };
  scoring?: {
    scored: number;
    failing: number;
    judgeCalls: number;
    judgeCallsWithoutCascade: number;
    evaluatorErrors: number;
  };
  clusters?: {
    id: string;
    stableId: string;
    name: string;
    /** category/subtype from the taxonomy, or `undiagnosed`. */
    category: string;
    size: number;
    intervention: string | null;
    isNew: boolean;
  }[];
  calibration?: { dimension: string; labels: number; kappa: number | null; canGate: boolean }[];
  annotation?: {
    items: number;
    labelled: number;
    decidedBy: 'reviewers' | 'deadline_judge_labels' | 'deadline_stopped';
    reminders?: number;
    escalated?: boolean;
  };
  dataset?: { datasetVersionId: string; train: number; eval: number; holdout?: number };
  optimization?: {
    runId: string;
    optimizer: string;
    teacherCalls: number;
    stopReason: string;
    bestCandidateId: string | null;
    baselineScore: number;
    bestScore: number;
    rollouts: number;
    /** Budget-floor and optimizer warnings (also on the optimization run's record). */
    warnings?: string[];
  };
  gate?: {
    reportId: string;
    passed: boolean;
    verdict: 'pass' | 'fail' | 'inconclusive';
    failingAssertion: string | null;
    /** The report's first assertions, failures first (optional: cycles started before it lack it). */
    assertions?: { name: string; passed: boolean; inconclusive?: boolean; detail: string }[];
  };
  approval?: {
    decision: 'approved' | 'rejected' | 'expired' | 'pending';
    by?: string;
    reason?: string;
    /** Who approved so far, against the agent's N-person rule. */
    approvers?: string[];
    required?: number;
  };
  rollout?: { rolloutId: string; weight: number; status: string; reason?: string };
}
