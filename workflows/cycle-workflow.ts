import {
  ApplicationFailure,
  executeChild,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  condition,
  ParentClosePolicy,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { AnnotationsSubmittedSignal } from '../schemas/annotation.js';
import { ApproveRequest, RejectRequest, type ApprovalResult } from '../schemas/approval.js';
import {
  CycleInput,
  type CycleInputArg,
  type CycleOutcome,
  type CycleStage,
} from '../schemas/cycle-input.js';
import type { CycleStatus } from '../schemas/cycle-status.js';
import { renderCycleDetails } from './cycle-details.js';
import { annotationsSubmittedSignal, approveUpdate, rejectUpdate, statusQuery } from './messages.js';
import { optimizeWorkflow } from './optimize-workflow.js';
import { rolloutWorkflow } from './rollout-workflow.js';
import { describeStep } from '../schemas/rollout-config.js';
import type { AnnotationPolicy } from '../schemas/annotation-policy.js';
import type { ApprovalPolicy } from '../schemas/approval-policy.js';
import { FlywheelAgent, FlywheelOutcome, FlywheelStage } from './search-attributes.js';
import { optimizeWorkflowId, rolloutWorkflowId } from './workflow-ids.js';

const light = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: ['InvalidInput'] },
});
const heavy = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: ['InvalidInput', 'LlmBadRequest'] },
});

export interface CycleResult {
  cycleId: string;
  outcome: CycleOutcome;
  status: CycleStatus;
}

/**
 * One improvement cycle: sample → score → diagnose → [annotation] → optimize → gate →
 * [approval] → staged rollout. Large data stays in Postgres; history carries IDs and counts.
 */
export async function cycleWorkflow(rawInput: CycleInputArg): Promise<CycleResult> {
  const parsed = CycleInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`Invalid cycle input: ${parsed.error.message}`, 'InvalidInput');
  }
  const input = parsed.data;
  const info = workflowInfo();
  const cycleId = info.workflowId;
  const status: CycleStatus = {
    cycleId,
    agent: input.agent,
    stage: 'starting',
    outcome: 'in_progress',
    stages: [],
  };
  let annotationComplete = false;
  /** The agent's human policies, fixed at the start of the cycle (see cyclePolicies). */
  const policies: { approval?: ApprovalPolicy; annotation?: AnnotationPolicy } = {};
  let gateReportId: string | null = null;
  /** Each person's answer, in arrival order; the N-person rule counts distinct approvers. */
  const answers: { approver: string; decision: 'approved' | 'rejected'; comment: string | null }[] = [];
  const required = () => policies.approval?.requiredApprovals ?? 1;
  const approvers = () => answers.filter((a) => a.decision === 'approved').map((a) => a.approver);
  const rejection = () => answers.find((a) => a.decision === 'rejected');
  const decided = () => rejection() !== undefined || approvers().length >= required();
  /** Answers whose audit row is still being written: the decision waits for them. */
  let recording = 0;

  setHandler(statusQuery, () => status);
  // Annotations are stored by the API/CLI, which signals once when the queue reaches its
  // quorum; a late or early signal (wrong stage) is ignored so it cannot change the cycle.
  setHandler(annotationsSubmittedSignal, (raw) => {
    const s = AnnotationsSubmittedSignal.safeParse(raw);
    if (!s.success || status.stage !== 'awaiting_annotation') return;
    if (s.data.complete) annotationComplete = true;
  });
  const validateApproval = (approver: string | undefined) => {
    if (status.stage !== 'awaiting_approval') {
      throw new Error(`Cycle ${cycleId} is not waiting for approval (stage: ${status.stage}).`);
    }
    if (decided()) {
      const r = rejection();
      throw new Error(
        r
          ? `Cycle ${cycleId} was already rejected by ${r.approver}.`
          : `Cycle ${cycleId} was already approved by ${approvers().join(', ')}.`,
      );
    }
    const who = approver?.trim();
    if (!who) throw new Error('An approver is required: pass --approver <name>.');
    const allowed = policies.approval?.approvers ?? [];
    if (allowed.length > 0 && !allowed.some((a) => a.toLowerCase() === who.toLowerCase())) {
      throw new Error(
        `${who} may not approve releases of ${input.agent}; the agent's approvers are ${allowed.join(', ')}.`,
      );
    }
    const earlier = answers.find((a) => a.approver.toLowerCase() === who.toLowerCase());
    if (earlier) throw new Error(`${who} already ${earlier.decision} this release; ask another approver.`);
  };
  const answer = async (
    decision: 'approved' | 'rejected',
    approver: string,
    comment: string | null,
  ): Promise<ApprovalResult> => {
    answers.push({ approver, decision, comment });
    recording++;
    // Durable before the approver hears back: the audit row exists when the Update returns,
    // and before the release decision that this answer may complete.
    await light.recordApproval.executeWithOptions({ summary: `${decision} by ${approver}` }, [
      { cycleId, approver, decision, comment, gateReportId },
    ]);
    recording--;
    const ok = approvers();
    status.approval = {
      decision: rejection() ? 'rejected' : ok.length >= required() ? 'approved' : 'pending',
      by: rejection()?.approver ?? ok.join(', '),
      ...(rejection()?.comment ? { reason: rejection()!.comment! } : {}),
      approvers: ok,
      required: required(),
    };
    setCurrentDetails(renderCycleDetails(status));
    return {
      decision: status.approval.decision === 'expired' ? 'rejected' : status.approval.decision,
      decidedBy: decision === 'rejected' ? approver : ok.join(', '),
      approvals: ok.length,
      required: required(),
    };
  };
  setHandler(
    approveUpdate,
    (req): Promise<ApprovalResult> => answer('approved', req.approver.trim(), req.comment ?? null),
    {
      // Validators run before anything is written to history: a rejected call leaves no trace.
      validator: (req: unknown) => {
        const v = ApproveRequest.safeParse(req);
        validateApproval(v.success ? v.data.approver : (req as { approver?: string } | null)?.approver);
        if (!v.success)
          throw new Error(`Invalid approval: ${v.error.issues.map((i) => i.message).join('; ')}`);
      },
      description: "Approve the gated candidate for staged rollout (counts toward the agent's N-person rule)",
    },
  );
  setHandler(
    rejectUpdate,
    (req): Promise<ApprovalResult> => answer('rejected', req.approver.trim(), req.reason),
    {
      validator: (req: unknown) => {
        const v = RejectRequest.safeParse(req);
        validateApproval(v.success ? v.data.approver : (req as { approver?: string } | null)?.approver);
        if (!v.success)
          throw new Error(`Invalid rejection: ${v.error.issues.map((i) => i.message).join('; ')}`);
      },
      description: 'Reject the gated candidate with a reason; the cycle ends without rollout',
    },
  );

  const enter = async (stage: CycleStage, summary?: string) => {
    status.stage = stage;
    upsertSearchAttributes([
      { key: FlywheelAgent, value: input.agent },
      { key: FlywheelStage, value: stage },
      { key: FlywheelOutcome, value: status.outcome },
    ]);
    const { at } = await light.updateCycleStage.executeWithOptions({ summary: `stage → ${stage}` }, [
      { cycleId, stage, outcome: status.outcome },
    ]);
    status.stages.push({ stage, startedAt: at, ...(summary ? { summary } : {}) });
    setCurrentDetails(renderCycleDetails(status));
  };
  /**
   * Waits for the queue's quorum (one signal from the API), reminding reviewers with open
   * items every reminder interval and escalating once; at the deadline the agent's policy
   * decides between the judge's labels and stopping the cycle. Timers are workflow time, so
   * a worker restart neither loses nor repeats a reminder.
   */
  const waitForReviewers = async (): Promise<'quorum' | 'deadline' | 'stopped'> => {
    const annotation = status.annotation!;
    // Offsets from the start of the wait. A condition that times out has waited exactly its
    // timeout, so elapsed time is the sum of the timeouts: no clock reading needed.
    const deadline = input.annotationDeadlineSeconds * 1000;
    const escalateAt = input.annotationEscalationSeconds * 1000;
    let nextReminder = input.annotationReminderSeconds * 1000;
    let elapsed = 0;
    annotation.reminders = 0;
    annotation.escalated = false;
    const notify = (
      notice:
        'annotation_requested' | 'annotation_reminder' | 'annotation_escalation' | 'annotation_deadline',
      detail?: string,
    ) =>
      light.notifyCycle.executeWithOptions({ summary: notice.replace('annotation_', 'reviewers: ') }, [
        {
          cycleId,
          agent: input.agent,
          notice,
          ...(notice === 'annotation_escalation'
            ? { escalateTo: policies.annotation?.escalateTo ?? [] }
            : {}),
          ...(detail ? { detail } : {}),
        },
      ]);
    await notify('annotation_requested');
    for (;;) {
      const next = Math.min(deadline, nextReminder, annotation.escalated ? Infinity : escalateAt);
      const quorum = await condition(() => annotationComplete, Math.max(1, next - elapsed), {
        summary: `wait for the review quorum (deadline ${input.annotationDeadlineSeconds}s)`,
      });
      if (quorum) return 'quorum';
      elapsed = Math.max(elapsed + 1, next);
      if (elapsed >= deadline) {
        const stop = policies.annotation?.onDeadline === 'stop_cycle';
        await notify(
          'annotation_deadline',
          stop ? 'The agent policy stops the cycle.' : 'Proceeding on the judge labels.',
        );
        return stop ? 'stopped' : 'deadline';
      }
      if (!annotation.escalated && elapsed >= escalateAt) {
        annotation.escalated = true;
        await notify('annotation_escalation');
      }
      if (elapsed >= nextReminder) {
        annotation.reminders++;
        nextReminder += input.annotationReminderSeconds * 1000;
        await notify('annotation_reminder');
      }
      setCurrentDetails(renderCycleDetails(status));
    }
  };
  const finish = async (outcome: CycleOutcome): Promise<CycleResult> => {
    status.outcome = outcome;
    await enter('done', outcome);
    return { cycleId, outcome, status };
  };

  // ── start ──────────────────────────────────────────────────────────────────────
  // The window ends when the cycle started: fixed in history, so replay sees the same window.
  const windowEnd = info.startTime;
  const windowStart = new Date(windowEnd.getTime() - input.windowDays * 24 * 3600 * 1000);
  await enter('starting');
  const { baselineVersionId } = await light.recordCycleStart.executeWithOptions(
    { summary: `record cycle for ${input.agent}` },
    [
      {
        cycleId,
        runId: info.runId,
        agent: input.agent,
        windowStart: windowStart.toISOString(),
        windowEnd: windowEnd.toISOString(),
        input,
      },
    ],
  );

  Object.assign(
    policies,
    await light.cyclePolicies.executeWithOptions(
      { summary: "read the agent's reviewer and approver policies" },
      [{ agent: input.agent }],
    ),
  );

  // ── sample ─────────────────────────────────────────────────────────────────────
  await enter('sampling');
  status.sample = await light.sampleTraces.executeWithOptions(
    { summary: `sample ${input.windowDays}d by the agent's sampling policy` },
    [
      {
        cycleId,
        agent: input.agent,
        windowStart: windowStart.toISOString(),
        windowEnd: windowEnd.toISOString(),
        rate: input.sampleRate,
        seed: input.seed,
        maxSample: input.maxSample,
      },
    ],
  );
  if (status.sample.sampled === 0) return finish('no_data');

  // ── score ──────────────────────────────────────────────────────────────────────
  await enter('scoring');
  const scoring = await heavy.scoreSample.executeWithOptions(
    { summary: `score ${status.sample.sampled} traces (code checks, then judge rubrics)` },
    [{ cycleId, agent: input.agent, seed: input.seed }],
  );
  status.scoring = {
    scored: scoring.scored,
    failing: scoring.failing,
    judgeCalls: scoring.judgeCalls,
    judgeCallsWithoutCascade: scoring.judgeCallsWithoutCascade,
    evaluatorErrors: scoring.evaluatorErrors,
  };

  // ── diagnose ───────────────────────────────────────────────────────────────────
  await enter('diagnosing');
  const diagnosis = await heavy.diagnoseFailures.executeWithOptions(
    { summary: `cluster and diagnose ${scoring.failing} failures` },
    [{ cycleId, agent: input.agent, seed: input.seed }],
  );
  status.clusters = diagnosis.clusters.map((c) => ({
    id: c.id,
    stableId: c.stableId,
    name: c.name,
    category: c.subtype ? `${c.category}/${c.subtype}` : c.category,
    size: c.size + c.noise,
    intervention: c.intervention,
    isNew: c.isNew,
  }));
  const report = {
    cycleId,
    agent: input.agent,
    judgeCalls: scoring.judgeCalls,
    judgeCallsWithoutCascade: scoring.judgeCallsWithoutCascade,
  };
  await light.writeCycleReport.executeWithOptions({ summary: 'write the diagnosis report' }, [report]);

  // ── annotation (human signal) ──────────────────────────────────────────────────
  const queue = await light.createAnnotationQueue.executeWithOptions(
    { summary: 'queue failing traces for review' },
    [
      {
        cycleId,
        agent: input.agent,
        maxItems: input.maxAnnotationItems,
        claimSeconds: input.annotationClaimSeconds,
      },
    ],
  );
  status.annotation = { items: queue.items, labelled: 0, decidedBy: 'reviewers' };
  if (queue.items > 0) {
    await enter('awaiting_annotation');
    const outcome = await waitForReviewers();
    if (outcome === 'stopped') {
      status.annotation.decidedBy = 'deadline_stopped';
      return finish('annotation_expired');
    }
    if (outcome === 'deadline') status.annotation.decidedBy = 'deadline_judge_labels';
  }
  const applied = await light.applyAnnotations.executeWithOptions(
    {
      summary:
        status.annotation.decidedBy === 'reviewers'
          ? 'apply reviewer labels'
          : 'deadline passed: proceed on judge labels',
    },
    [{ cycleId }],
  );
  status.annotation.labelled = applied.labelled;
  status.calibration = (
    await light.calibrateJudges.executeWithOptions({ summary: 'judge agreement with reviewers' }, [
      { cycleId, agent: input.agent },
    ])
  ).map((c) => ({ dimension: c.dimension, labels: c.labels, kappa: c.kappa, canGate: c.canGate }));
  await light.writeCycleReport.executeWithOptions({ summary: 'add judge agreement to the report' }, [report]);

  // ── dataset ────────────────────────────────────────────────────────────────────
  await enter('building_dataset');
  const dataset = await light.buildDatasetVersion.executeWithOptions(
    { summary: 'promote labelled traces into a dataset version' },
    [{ cycleId, agent: input.agent, seed: input.seed }],
  );
  status.dataset = {
    datasetVersionId: dataset.datasetVersionId,
    train: dataset.train,
    eval: dataset.eval,
    holdout: dataset.holdout,
  };
  if ((status.clusters ?? []).length === 0 || dataset.train === 0) return finish('no_data');
  // Only clusters a prompt can fix go to the optimizer; the rest are recommendations.
  if (!status.clusters.some((c) => c.intervention === 'prompt')) return finish('recommendations_only');

  // ── optimize (child workflow with its own history and continue-as-new) ─────────
  await enter('optimizing');
  const runId = `${cycleId}:opt`;
  const optimized = await executeChild(optimizeWorkflow, {
    workflowId: optimizeWorkflowId(cycleId),
    staticSummary: `${input.optimizer.choice?.name ?? 'configured optimizer'} · ${input.optimizer.budget.maxRollouts} rollouts · ${input.agent}`,
    parentClosePolicy: ParentClosePolicy.TERMINATE,
    args: [
      {
        cycleId,
        runId,
        agent: input.agent,
        datasetVersionId: dataset.datasetVersionId,
        baselineVersionId,
        seed: input.seed,
        optimizer: input.optimizer.choice,
        budget: input.optimizer.budget,
        stopping: input.optimizer.stopping,
        maxHistoryEvents: input.optimizer.maxHistoryEvents,
      },
    ],
  });
  const improved = optimized.bestCandidateId !== optimized.baselineCandidateId;
  status.optimization = {
    runId,
    optimizer: optimized.optimizer,
    teacherCalls: optimized.teacherCalls,
    stopReason: optimized.stopReason,
    bestCandidateId: improved ? optimized.bestCandidateId : null,
    baselineScore: optimized.baselineScore,
    bestScore: optimized.bestScore,
    rollouts: optimized.rolloutsUsed,
  };
  if (!improved) return finish('no_candidate');

  // ── regression gate ────────────────────────────────────────────────────────────
  await enter('gating');
  const gate = await heavy.runGate.executeWithOptions(
    { summary: `gate ${optimized.bestCandidateId} vs production on eval` },
    [
      {
        cycleId,
        agent: input.agent,
        candidateId: optimized.bestCandidateId,
        baselineCandidateId: optimized.baselineCandidateId,
        baselineVersionId,
        datasetVersionId: dataset.datasetVersionId,
        seed: input.seed,
        config: input.gate,
      },
    ],
  );
  status.gate = {
    reportId: gate.reportId,
    passed: gate.passed,
    verdict: gate.verdict,
    failingAssertion: gate.failingAssertion,
    assertions: gate.assertions,
  };
  // Inconclusive (an uncalibrated judge) is not a failure: the approver decides with the report.
  if (gate.verdict === 'fail' || !gate.candidateVersionId) return finish('gate_failed');

  // ── approval (human update) ────────────────────────────────────────────────────
  gateReportId = gate.reportId;
  await enter('awaiting_approval');
  await light.notifyCycle.executeWithOptions({ summary: 'ask approvers' }, [
    { cycleId, agent: input.agent, notice: 'approval_requested', detail: `gate ${gate.verdict}` },
  ]);
  const inTime = await condition(() => decided() && recording === 0, input.approvalDeadlineSeconds * 1000, {
    summary: `wait for ${required()} approval(s) (deadline ${input.approvalDeadlineSeconds}s)`,
  });
  const rejected = rejection();
  const decision = rejected
    ? { decision: 'rejected' as const, by: rejected.approver, comment: rejected.comment }
    : inTime
      ? {
          decision: 'approved' as const,
          by: approvers().join(', '),
          comment:
            answers
              .map((a) => a.comment)
              .filter(Boolean)
              .join(' / ') || null,
        }
      : {
          decision: 'expired' as const,
          by: 'deadline',
          comment: `${approvers().length}/${required()} approvals within ${input.approvalDeadlineSeconds}s`,
        };
  status.approval = {
    decision: decision.decision,
    by: decision.by,
    ...(decision.comment ? { reason: decision.comment } : {}),
    approvers: approvers(),
    required: required(),
  };
  const { decisionId } = await light.recordReleaseDecision.executeWithOptions(
    { summary: `record ${decision.decision} by ${decision.by}` },
    [
      {
        cycleId,
        gateReportId: gate.reportId,
        decision: decision.decision,
        decidedBy: decision.by,
        comment: decision.comment,
      },
    ],
  );
  if (decision.decision === 'expired') {
    await light.notifyCycle.executeWithOptions({ summary: 'tell approvers it expired' }, [
      { cycleId, agent: input.agent, notice: 'approval_expired' },
    ]);
    return finish('approval_expired');
  }
  if (decision.decision === 'rejected') return finish('rejected');

  // ── staged rollout (child workflow) ────────────────────────────────────────────
  await enter('rolling_out');
  const rolloutId = rolloutWorkflowId(cycleId);
  status.rollout = { rolloutId, weight: 0, status: 'running' };
  setCurrentDetails(renderCycleDetails(status));
  const rollout = await executeChild(rolloutWorkflow, {
    workflowId: rolloutWorkflowId(cycleId),
    staticSummary: `staged rollout: ${input.rollout.steps.map(describeStep).join(' → ')}`,
    parentClosePolicy: ParentClosePolicy.TERMINATE,
    args: [
      {
        rolloutId,
        cycleId,
        agent: input.agent,
        decisionId,
        baselineVersionId,
        candidateVersionId: gate.candidateVersionId,
        config: input.rollout,
        createdBy: decision.by,
        seed: input.seed,
      },
    ],
  });
  status.rollout = { rolloutId, weight: rollout.weight, status: rollout.status, reason: rollout.reason };
  return finish(rollout.status === 'completed' ? 'released' : 'rolled_back');
}
