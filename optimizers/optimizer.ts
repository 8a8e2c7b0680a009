/**
 * The ask/tell contract every optimizer implements. Requests name candidates by ID; the
 * prompt texts live in Postgres, so optimizer state stays small enough to checkpoint in
 * workflow history and carry through continue-as-new.
 */
export type OptimizerRequest =
  | { kind: 'propose'; count: number; parentCandidateId: string }
  | { kind: 'evaluate'; candidateId: string }
  | { kind: 'done'; reason: string };

export type OptimizerResult =
  | { kind: 'proposed'; candidateIds: string[] }
  | { kind: 'evaluated'; candidateId: string; score: number; rollouts: number };

export interface OptimizerOutcome {
  bestCandidateId: string;
  bestScore: number;
  baselineScore: number;
  rolloutsUsed: number;
  evaluations: number;
}
