import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AnnotationsSubmittedSignal } from '../schemas/annotation.js';
import type { ApprovalResult } from '../schemas/approval.js';
import type { CycleStatus } from '../schemas/cycle-status.js';
import type { RolloutState } from '../schemas/rollout-control.js';
import type { SignedDecision } from '../schemas/signed-decision.js';

// One module for every message, imported by workflows, the CLI, the API and tests alike.

/** Labels are stored in Postgres first; the signal only says the queue reached its quorum. */
export const annotationsSubmittedSignal = defineSignal<[AnnotationsSubmittedSignal]>('annotationsSubmitted');

/**
 * Updates, not signals: the approver needs an answer, and the validator rejects bad calls
 * without history. Every human decision is a SignedDecision the API signed for the person who
 * made it (release/decision-signing-service.ts); the validators verify it.
 */
export const approveUpdate = defineUpdate<ApprovalResult, [SignedDecision]>('approve');
export const rejectUpdate = defineUpdate<ApprovalResult, [SignedDecision]>('reject');

export const statusQuery = defineQuery<CycleStatus>('status');

// Rollout controls are Updates for the same reason: the operator learns at once whether the
// action was accepted, and an invalid one (promote while progressing) leaves no history.
export const promoteRolloutUpdate = defineUpdate<RolloutState, [SignedDecision]>('promote');
export const pauseRolloutUpdate = defineUpdate<RolloutState, [SignedDecision]>('pause');
export const resumeRolloutUpdate = defineUpdate<RolloutState, [SignedDecision]>('resume');
export const abortRolloutUpdate = defineUpdate<RolloutState, [SignedDecision]>('abort');
export const setRolloutWeightUpdate = defineUpdate<RolloutState, [SignedDecision]>('setWeight');
export const rolloutStatusQuery = defineQuery<RolloutState>('rolloutStatus');
