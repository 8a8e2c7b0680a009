import { ApplicationFailure, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { AnnotationsSubmittedSignal } from '../schemas/annotation.js';
import { ApproveRequest, RejectRequest, type ApprovalResult } from '../schemas/approval.js';
import { CycleInput, type CycleInputArg, type CycleOutcome } from '../schemas/cycle-input.js';
import type { CycleStatus } from '../schemas/cycle-status.js';
import { FailureType } from '../schemas/failure-types.js';
import { formatIssues } from '../schemas/format-issues.js';
import { ApprovalRules, type ApprovalAnswer } from './approval-rules.js';
import { CycleProgress } from './cycle-progress.js';
import {
  askApprovers,
  buildDataset,
  collectLabels,
  diagnose,
  hasCandidateCoaching,
  optimize,
  recordStart,
  regressionGate,
  rollOut,
  sample,
  score,
  type Cycle,
} from './cycle-steps.js';
import { annotationsSubmittedSignal, approveUpdate, rejectUpdate, statusQuery } from './messages.js';
import { LIGHT_ACTIVITY } from './retry-policies.js';
import { SignedDecisions, type AcceptedDecision } from './signed-decisions.js';

const light = proxyActivities<Activities>(LIGHT_ACTIVITY);

export interface CycleResult {
  cycleId: string;
  outcome: CycleOutcome;
  status: CycleStatus;
}

/** The patch that lets a coaching set go through gate and rollout without a new prompt. */
const COACHING_SET_ALONE = 'coaching-set-alone';
/**
 * The patch that ends a cycle whose scored sample held no failure as `no_failures` instead of
 * `no_data` (operators read "no data" as a broken ingest). Only the outcome differs.
 */
const NO_FAILURES_OUTCOME = 'outcome-no-failures';

/**
 * One improvement cycle: sample → score → diagnose → [annotation] → optimize → gate →
 * [approval] → staged rollout. Large data stays in Postgres; history carries IDs and counts.
 * The agent's candidate coaching is gated and rolled out as one set with the candidate, or
 * alone on the production prompt when the optimizer found no better one.
 */
export async function cycleWorkflow(rawInput: CycleInputArg): Promise<CycleResult> {
  const parsed = CycleInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `Invalid cycle input: ${formatIssues(parsed.error)}`,
      FailureType.InvalidInput,
    );
  }
  const input = parsed.data;
  const info = workflowInfo();
  const cycleId = info.workflowId;
  const progress = new CycleProgress(
    { cycleId, agent: input.agent, stage: 'starting', outcome: 'in_progress', stages: [] },
    light,
  );
  const { status } = progress;
  const c: Cycle = {
    cycleId,
    input,
    progress,
    status,
    approvals: new ApprovalRules(cycleId, input.agent),
    annotationComplete: false,
    gateReportId: null,
  };
  handleMessages(c);
  const finish = async (outcome: CycleOutcome): Promise<CycleResult> => {
    status.outcome = outcome;
    await progress.enter('done', outcome);
    return { cycleId, outcome, status };
  };

  // The window ends when the cycle started: fixed in history, so replay sees the same window.
  const windowEnd = info.startTime;
  const window = {
    windowStart: new Date(windowEnd.getTime() - input.windowDays * 24 * 3600 * 1000).toISOString(),
    windowEnd: windowEnd.toISOString(),
  };
  await progress.enter('starting');
  const { baselineVersionId } = await recordStart(c, info.runId, window);

  await progress.enter('sampling');
  const { sampled } = await sample(c, window);
  if (sampled === 0) return finish('no_data');
  await progress.enter('scoring');
  const scoring = await score(c, sampled);
  await progress.enter('diagnosing');
  const { clusters, report } = await diagnose(c, scoring);

  if ((await collectLabels(c, report)) === 'stopped') return finish('annotation_expired');

  await progress.enter('building_dataset');
  const dataset = await buildDataset(c);
  if (clusters.length === 0 && scoring.failing === 0 && patched(NO_FAILURES_OUTCOME))
    return finish('no_failures');
  if (clusters.length === 0 || dataset.train === 0) return finish('no_data');
  // Only clusters a prompt can fix go to the optimizer; the rest are recommendations.
  if (!clusters.some((cl) => cl.intervention === 'prompt')) return finish('recommendations_only');

  await progress.enter('optimizing');
  const optimized = await optimize(c, dataset.datasetVersionId, baselineVersionId);
  // No better prompt: a candidate coaching set may still be gated and rolled out alone.
  // Histories recorded before coaching sets replay without the marker, so without the check.
  if (
    optimized.bestCandidateId === optimized.baselineCandidateId &&
    !(patched(COACHING_SET_ALONE) && (await hasCandidateCoaching(c)))
  )
    return finish('no_candidate');

  await progress.enter('gating');
  const gate = await regressionGate(c, optimized, dataset.datasetVersionId, baselineVersionId);
  // A candidate whose shipped form equals production is no candidate: nothing to release. Older
  // histories never carry the field, so they replay through the same commands as before.
  if (gate.sameAsProduction) return finish('no_candidate');
  // Inconclusive (an uncalibrated judge) is not a failure: the approver decides with the report.
  if (gate.verdict === 'fail' || !gate.candidateVersionId) return finish('gate_failed');

  const { decision, decisionId } = await askApprovers(c, gate);
  if (decision.decision === 'expired') return finish('approval_expired');
  if (decision.decision === 'rejected') return finish('rejected');

  await progress.enter('rolling_out');
  const rollout = await rollOut(c, {
    decisionId,
    baselineVersionId,
    candidateVersionId: gate.candidateVersionId,
    createdBy: decision.by,
    coaching: gate.coaching,
  });
  return finish(rollout.status === 'completed' ? 'released' : 'rolled_back');
}

/** The status query, the annotation signal and the approvers' Updates. */
function handleMessages(c: Cycle): void {
  const { status, approvals } = c;
  // The query shows a stage once the database has recorded it (the last entry of `stages`):
  // the API checks the database, so a reviewer who saw `awaiting_annotation` while the stage
  // was still being written got "still preparing its queue". Handlers keep reading
  // `status.stage`, which moves first, so recorded histories replay unchanged.
  setHandler(statusQuery, () => ({ ...status, stage: status.stages.at(-1)?.stage ?? status.stage }));
  // Annotations are stored by the API/CLI, which signals once when the queue reaches its
  // quorum; a late or early signal (wrong stage) is ignored so it cannot change the cycle.
  setHandler(annotationsSubmittedSignal, (raw) => {
    const s = AnnotationsSubmittedSignal.safeParse(raw);
    if (!s.success || status.stage !== 'awaiting_annotation') return;
    if (s.data.complete) c.annotationComplete = true;
  });
  const decisions = new SignedDecisions();
  const answer = async (
    a: ApprovalAnswer,
    signature: AcceptedDecision<'approve' | 'reject'>['signature'],
  ): Promise<ApprovalResult> => {
    approvals.add(a);
    // Durable before the approver hears back: the audit row exists when the Update returns,
    // and before the release decision that this answer may complete.
    await light.recordApproval.executeWithOptions({ summary: `${a.decision} by ${a.approver}` }, [
      { cycleId: c.cycleId, ...a, gateReportId: c.gateReportId, ...(signature ? { signature } : {}) },
    ]);
    approvals.recorded();
    status.approval = approvals.progress();
    c.progress.show();
    return approvals.reply(a);
  };
  // Validators run before anything is written to history: a refused call leaves no trace.
  // The signature is checked first, then the approval rules for the person it names.
  setHandler(
    approveUpdate,
    (raw): Promise<ApprovalResult> => {
      const d = decisions.accept(raw, 'approve', (old) => {
        const req = ApproveRequest.parse(old);
        return { person: req.approver, args: { comment: req.comment } };
      });
      return answer(
        { approver: d.person, ...actorOf(d), decision: 'approved', comment: d.args.comment ?? null },
        d.signature,
      );
    },
    {
      validator: (raw: unknown) => approvals.check(status.stage, decisions.verify(raw, 'approve').person),
      description: "Approve the gated candidate for staged rollout (counts toward the agent's N-person rule)",
    },
  );
  setHandler(
    rejectUpdate,
    (raw): Promise<ApprovalResult> => {
      const d = decisions.accept(raw, 'reject', (old) => {
        const req = RejectRequest.parse(old);
        return { person: req.approver, args: { reason: req.reason } };
      });
      return answer(
        { approver: d.person, ...actorOf(d), decision: 'rejected', comment: d.args.reason },
        d.signature,
      );
    },
    {
      validator: (raw: unknown) => approvals.check(status.stage, decisions.verify(raw, 'reject').person),
      description: 'Reject the gated candidate with a reason; the cycle ends without rollout',
    },
  );
}

/** A signed answer names its actor; an unsigned (replayed) one keeps its old shape, without. */
const actorOf = (d: AcceptedDecision<'approve' | 'reject'>) => (d.signature ? { actor: d.actor } : {});
