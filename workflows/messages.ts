import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AnnotationsSubmittedSignal } from '../schemas/annotation.js';
import type { ApprovalResult, ApproveRequest, RejectRequest } from '../schemas/approval.js';
import type { CycleStatus } from '../schemas/cycle-status.js';
import type {
  PromoteRequest,
  RolloutActionRequest,
  RolloutState,
  SetWeightRequest,
} from '../schemas/rollout-control.js';

// One module for every message, imported by workflows, the CLI, the API and tests alike.

/** Labels are stored in Postgres first; the signal only says the queue reached its quorum. */
export const annotationsSubmittedSignal = defineSignal<[AnnotationsSubmittedSignal]>('annotationsSubmitted');

/** Updates, not signals: the approver needs an answer, and the validator rejects bad calls without history. */
export const approveUpdate = defineUpdate<ApprovalResult, [ApproveRequest]>('approve');
export const rejectUpdate = defineUpdate<ApprovalResult, [RejectRequest]>('reject');

export const statusQuery = defineQuery<CycleStatus>('status');

// Rollout controls are Updates for the same reason: the operator learns at once whether the
// action was accepted, and an invalid one (promote while progressing) leaves no history.
export const promoteRolloutUpdate = defineUpdate<RolloutState, [PromoteRequest]>('promote');
export const pauseRolloutUpdate = defineUpdate<RolloutState, [RolloutActionRequest]>('pause');
export const resumeRolloutUpdate = defineUpdate<RolloutState, [RolloutActionRequest]>('resume');
export const abortRolloutUpdate = defineUpdate<RolloutState, [RolloutActionRequest]>('abort');
export const setRolloutWeightUpdate = defineUpdate<RolloutState, [SetWeightRequest]>('setWeight');
export const rolloutStatusQuery = defineQuery<RolloutState>('rolloutStatus');
