import { condition, executeChild, ParentClosePolicy, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { AnnotationPolicy } from '../schemas/annotation-policy.js';
import type { CoachingSet } from '../schemas/coaching.js';
import type { CycleInput } from '../schemas/cycle-input.js';
import type { CycleStatus } from '../schemas/cycle-status.js';
import { describeBudget } from '../schemas/optimizer-config.js';
import { describeStep } from '../schemas/rollout-config.js';
import type { ApprovalRules, ReleaseDecision } from './approval-rules.js';
import type { CycleProgress } from './cycle-progress.js';
import { optimizeWorkflow } from './optimize-workflow.js';
import { HEAVY_ACTIVITY, LIGHT_ACTIVITY } from './retry-policies.js';
import { waitForReviewers } from './reviewer-wait.js';
import { rolloutWorkflow } from './rollout-workflow.js';
import { optimizeWorkflowId, rolloutWorkflowId } from './workflow-ids.js';

// The steps of cycleWorkflow, in its order: each runs one stage's activities (or child
// workflow) and writes what it learned into the status. The workflow decides the order.

const light = proxyActivities<Activities>(LIGHT_ACTIVITY);
const heavy = proxyActivities<Activities>(HEAVY_ACTIVITY);
/** The cycle's own per-attempt limit for its many-call model steps. */
const batchTimeout = (input: CycleInput) => ({
  startToCloseTimeout: input.modelTimeouts.batchMinutes * 60_000,
});

/** What every stage of one cycle shares, the message handlers included. */
export interface Cycle {
  cycleId: string;
  input: CycleInput;
  progress: CycleProgress;
  status: CycleStatus;
  approvals: ApprovalRules;
  /** The reviewers' policy, fixed at the start of the cycle (see cyclePolicies). */
  annotationPolicy?: AnnotationPolicy;
  /** Set by the signal when the annotation queue reaches its quorum. */
  annotationComplete: boolean;
  /** The gate report the approvers answer about, cited in each audit row. */
  gateReportId: string | null;
}

export type Activity<K extends keyof Activities> = Awaited<ReturnType<Activities[K]>>;

export interface CycleWindow {
  windowStart: string;
  windowEnd: string;
}

/** The cycles row, then the agent's reviewer and approver policies for the whole cycle. */
export async function recordStart(c: Cycle, runId: string, window: CycleWindow) {
  const { input } = c;
  const started = await light.recordCycleStart.executeWithOptions(
    { summary: `record cycle for ${input.agent}` },
    [{ cycleId: c.cycleId, runId, agent: input.agent, ...window, input }],
  );
  const policies = await light.cyclePolicies.executeWithOptions(
    { summary: "read the agent's reviewer and approver policies" },
    [{ agent: input.agent }],
  );
  c.approvals.policy = policies.approval;
  c.annotationPolicy = policies.annotation;
  return started;
}

export async function sample(c: Cycle, window: CycleWindow): Promise<Activity<'sampleTraces'>> {
  const { input } = c;
  const sampled = await light.sampleTraces.executeWithOptions(
    { summary: `sample ${input.windowDays}d by the agent's sampling policy` },
    [
      {
        cycleId: c.cycleId,
        agent: input.agent,
        ...window,
        rate: input.sampleRate,
        seed: input.seed,
        maxSample: input.maxSample,
      },
    ],
  );
  c.status.sample = sampled;
  return sampled;
}

export async function score(c: Cycle, sampled: number): Promise<Activity<'scoreSample'>> {
  const scoring = await heavy.scoreSample.executeWithOptions(
    { summary: `score ${sampled} traces (code checks, then judge rubrics)`, ...batchTimeout(c.input) },
    [{ cycleId: c.cycleId, agent: c.input.agent, seed: c.input.seed }],
  );
  c.status.scoring = {
    scored: scoring.scored,
    failing: scoring.failing,
    judgeCalls: scoring.judgeCalls,
    judgeCallsWithoutCascade: scoring.judgeCallsWithoutCascade,
    evaluatorErrors: scoring.evaluatorErrors,
  };
  return scoring;
}

export type CycleReport = Parameters<Activities['writeCycleReport']>[0];

export async function diagnose(c: Cycle, scoring: Activity<'scoreSample'>) {
  const diagnosis = await heavy.diagnoseFailures.executeWithOptions(
    { summary: `cluster and diagnose ${scoring.failing} failures`, ...batchTimeout(c.input) },
    [{ cycleId: c.cycleId, agent: c.input.agent, seed: c.input.seed }],
  );
  const clusters = diagnosis.clusters.map((cl) => ({
    id: cl.id,
    stableId: cl.stableId,
    name: cl.name,
    category: cl.subtype ? `${cl.category}/${cl.subtype}` : cl.category,
    size: cl.size + cl.noise,
    intervention: cl.intervention,
    isNew: cl.isNew,
  }));
  c.status.clusters = clusters;
  const report: CycleReport = {
    cycleId: c.cycleId,
    agent: c.input.agent,
    judgeCalls: scoring.judgeCalls,
    judgeCallsWithoutCascade: scoring.judgeCallsWithoutCascade,
  };
  await light.writeCycleReport.executeWithOptions({ summary: 'write the diagnosis report' }, [report]);
  return { clusters, report };
}

/**
 * Queues failing traces for reviewers and waits for them (when there is anything to
 * review), then applies their labels and measures the judges' agreement with them.
 */
export async function collectLabels(c: Cycle, report: CycleReport): Promise<'labelled' | 'stopped'> {
  const { cycleId, input, status } = c;
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
  const annotation: NonNullable<CycleStatus['annotation']> = {
    items: queue.items,
    labelled: 0,
    decidedBy: 'reviewers',
  };
  status.annotation = annotation;
  if (queue.items > 0) {
    await c.progress.enter('awaiting_annotation');
    const outcome = await waitForReviewers({
      cycleId,
      input,
      policy: c.annotationPolicy,
      annotation,
      quorum: () => c.annotationComplete,
      activities: light,
      showProgress: () => c.progress.show(),
    });
    if (outcome === 'stopped') {
      annotation.decidedBy = 'deadline_stopped';
      return 'stopped';
    }
    if (outcome === 'deadline') annotation.decidedBy = 'deadline_judge_labels';
  }
  const applied = await light.applyAnnotations.executeWithOptions(
    {
      summary:
        annotation.decidedBy === 'reviewers'
          ? 'apply reviewer labels'
          : 'deadline passed: proceed on judge labels',
    },
    [{ cycleId }],
  );
  annotation.labelled = applied.labelled;
  status.calibration = (
    await light.calibrateJudges.executeWithOptions({ summary: 'judge agreement with reviewers' }, [
      { cycleId, agent: input.agent },
    ])
  ).map((cal) => ({ dimension: cal.dimension, labels: cal.labels, kappa: cal.kappa, canGate: cal.canGate }));
  await light.writeCycleReport.executeWithOptions({ summary: 'add judge agreement to the report' }, [report]);
  return 'labelled';
}

export async function buildDataset(c: Cycle): Promise<Activity<'buildDatasetVersion'>> {
  const dataset = await light.buildDatasetVersion.executeWithOptions(
    { summary: 'promote labelled traces into a dataset version' },
    [{ cycleId: c.cycleId, agent: c.input.agent, seed: c.input.seed }],
  );
  c.status.dataset = {
    datasetVersionId: dataset.datasetVersionId,
    train: dataset.train,
    eval: dataset.eval,
    holdout: dataset.holdout,
  };
  return dataset;
}

/** A child workflow with its own history and continue-as-new. */
export async function optimize(c: Cycle, datasetVersionId: string, baselineVersionId: string) {
  const { cycleId, input } = c;
  const runId = `${cycleId}:opt`;
  const optimized = await executeChild(optimizeWorkflow, {
    workflowId: optimizeWorkflowId(cycleId),
    staticSummary: `${input.optimizer.choice?.name ?? 'configured optimizer'} · ${describeBudget(input.optimizer.budget)} · ${input.agent}`,
    parentClosePolicy: ParentClosePolicy.TERMINATE,
    args: [
      {
        cycleId,
        runId,
        agent: input.agent,
        datasetVersionId,
        baselineVersionId,
        seed: input.seed,
        optimizer: input.optimizer.choice,
        budget: input.optimizer.budget,
        stopping: input.optimizer.stopping,
        maxHistoryEvents: input.optimizer.maxHistoryEvents,
        modelTimeouts: input.modelTimeouts,
      },
    ],
  });
  const improved = optimized.bestCandidateId !== optimized.baselineCandidateId;
  c.status.optimization = {
    runId,
    optimizer: optimized.optimizer,
    teacherCalls: optimized.teacherCalls,
    stopReason: optimized.stopReason,
    bestCandidateId: improved ? optimized.bestCandidateId : null,
    baselineScore: optimized.baselineScore,
    bestScore: optimized.bestScore,
    rollouts: optimized.rolloutsUsed,
    ...(optimized.warnings.length ? { warnings: optimized.warnings } : {}),
  };
  return optimized;
}

export async function regressionGate(
  c: Cycle,
  optimized: { bestCandidateId: string; baselineCandidateId: string },
  datasetVersionId: string,
  baselineVersionId: string,
): Promise<Activity<'runGate'>> {
  const gate = await heavy.runGate.executeWithOptions(
    { summary: `gate ${optimized.bestCandidateId} vs production on eval`, ...batchTimeout(c.input) },
    [
      {
        cycleId: c.cycleId,
        agent: c.input.agent,
        candidateId: optimized.bestCandidateId,
        baselineCandidateId: optimized.baselineCandidateId,
        baselineVersionId,
        datasetVersionId,
        seed: c.input.seed,
        config: c.input.gate,
      },
    ],
  );
  c.status.gate = {
    reportId: gate.reportId,
    passed: gate.passed,
    verdict: gate.verdict,
    failingAssertion: gate.failingAssertion,
    assertions: gate.assertions,
  };
  return gate;
}

/**
 * Asks the approvers and waits until the agent's N-person rule decides (or one rejects),
 * or the deadline passes; the decision is recorded, and an expiry announced.
 */
export async function askApprovers(
  c: Cycle,
  gate: Activity<'runGate'>,
): Promise<{ decision: ReleaseDecision; decisionId: string }> {
  const { cycleId, input, approvals } = c;
  c.gateReportId = gate.reportId;
  await c.progress.enter('awaiting_approval');
  await light.notifyCycle.executeWithOptions({ summary: 'ask approvers' }, [
    { cycleId, agent: input.agent, notice: 'approval_requested', detail: `gate ${gate.verdict}` },
  ]);
  const inTime = await condition(() => approvals.settled(), input.approvalDeadlineSeconds * 1000, {
    summary: `wait for ${approvals.required} approval(s) (deadline ${input.approvalDeadlineSeconds}s)`,
  });
  const decision = approvals.decide(inTime, input.approvalDeadlineSeconds);
  c.status.approval = approvals.outcome(decision);
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
  }
  return { decision, decisionId };
}

/**
 * Whether the agent has candidate coaching to gate: when the optimizer found no better
 * prompt, a coaching set still goes through the gate (on the production prompt) and the
 * staged rollout alone.
 */
export async function hasCandidateCoaching(c: Cycle): Promise<boolean> {
  const { candidates } = await light.candidateCoachingCount.executeWithOptions(
    { summary: 'count candidate coaching' },
    [{ agent: c.input.agent }],
  );
  return candidates > 0;
}

/** The staged rollout, a child workflow. */
export async function rollOut(
  c: Cycle,
  release: {
    decisionId: string;
    baselineVersionId: string;
    candidateVersionId: string;
    createdBy: string;
    /** Candidate coaching the gate released with the version; absent: none. */
    coaching?: CoachingSet | undefined;
  },
) {
  const { cycleId, input, status } = c;
  const rolloutId = rolloutWorkflowId(cycleId);
  status.rollout = { rolloutId, weight: 0, status: 'running' };
  c.progress.show();
  const rollout = await executeChild(rolloutWorkflow, {
    workflowId: rolloutWorkflowId(cycleId),
    staticSummary: `staged rollout: ${input.rollout.steps.map(describeStep).join(' → ')}`,
    parentClosePolicy: ParentClosePolicy.TERMINATE,
    args: [
      {
        rolloutId,
        cycleId,
        agent: input.agent,
        decisionId: release.decisionId,
        baselineVersionId: release.baselineVersionId,
        candidateVersionId: release.candidateVersionId,
        ...(release.coaching?.length ? { coaching: release.coaching } : {}),
        config: input.rollout,
        createdBy: release.createdBy,
        seed: input.seed,
        modelTimeouts: { batchMinutes: input.modelTimeouts.batchMinutes },
      },
    ],
  });
  status.rollout = { rolloutId, weight: rollout.weight, status: rollout.status, reason: rollout.reason };
  return rollout;
}
