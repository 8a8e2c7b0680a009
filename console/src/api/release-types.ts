// What the cycle and rollout routes answer, imported type-only from the services and schemas
// that produce it (see types.ts): a changed answer fails `npm run typecheck` here.
import type { CycleGateReview } from '../../../cycles/cycle-gate-service.js';
import type { RolloutStepResult } from '../../../release/rollout-step-service.js';
import type { Measurement } from '../../../release/rollout-analysis.js';
import type { ApprovalResult } from '../../../schemas/approval.js';
import type { CycleStage } from '../../../schemas/cycle-input.js';
import type { CycleStatus } from '../../../schemas/cycle-status.js';
import type { RolloutState } from '../../../schemas/rollout-control.js';
import type { Json } from './types.js';

export type { CycleStage, CycleStatus, RolloutState, ApprovalResult };
export type GateReview = Json<CycleGateReview>;
export type GateAssertion = GateReview['report']['assertions'][number];
export type GateSlice = NonNullable<GateReview['report']['slices']>[number];
export type RolloutStep = Json<RolloutStepResult>;
export type MetricMeasurement = Json<Measurement['metrics'][number]>;

/** The stages of a cycle in the order it passes them (schemas/cycle-input.ts CycleStage). */
export const CYCLE_STAGES = [
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
] as const satisfies readonly CycleStage[];
// The list is written out to keep zod out of the bundle; this line stops compiling when a
// stage is added to CycleStage and not here.
const everyStageListed: [Exclude<CycleStage, (typeof CYCLE_STAGES)[number]>] extends [never] ? true : never =
  true;
void everyStageListed;
