import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AnnotationsSubmittedSignal } from '../schemas/annotation.js';
import type { ApprovalResult, ApproveRequest, RejectRequest } from '../schemas/approval.js';
import type { CycleStatus } from '../schemas/cycle-status.js';

// One module for every message, imported by workflows, the CLI, the API and tests alike.

/** Labels are stored in Postgres first; the signal only says a batch landed. */
export const annotationsSubmittedSignal = defineSignal<[AnnotationsSubmittedSignal]>('annotationsSubmitted');

/** Updates, not signals: the approver needs an answer, and the validator rejects bad calls without history. */
export const approveUpdate = defineUpdate<ApprovalResult, [ApproveRequest]>('approve');
export const rejectUpdate = defineUpdate<ApprovalResult, [RejectRequest]>('reject');

export const statusQuery = defineQuery<CycleStatus>('status');
