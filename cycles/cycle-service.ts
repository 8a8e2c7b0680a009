import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  type Client,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { queueItems } from '../annotation/store/annotation-reads.js';
import type { Db } from '../db/connection.js';
import type { ApprovalResult } from '../schemas/approval.js';
import { CycleInput, type CycleInputArg } from '../schemas/cycle-input.js';
import type { CycleStatus } from '../schemas/cycle-status.js';
import { describeBudget } from '../schemas/optimizer-config.js';
import { cycleWorkflow } from '../workflows/cycle-workflow.js';
import { approveUpdate, rejectUpdate, statusQuery } from '../workflows/messages.js';
import { FlywheelAgent, FlywheelOutcome, FlywheelStage } from '../workflows/search-attributes.js';
import { cycleWorkflowId } from '../workflows/workflow-ids.js';
import { submitQueueBatch, type BatchResult } from '../annotation/annotation-service.js';
import { formatIssues } from '../schemas/format-issues.js';
import { ConflictError, NotFoundError, UserError } from '../schemas/user-error.js';
import type { SignedDecision } from '../schemas/signed-decision.js';
import {
  decisionArgs,
  signDecision,
  updateRefused,
  type Decider,
} from '../release/decision-signing-service.js';

/** Default cycle IDs tried per agent and day before asking for an explicit --id. */
const MAX_CYCLES_PER_DAY = 50;

export interface StartCycleOptions {
  taskQueue: string;
  input: CycleInputArg;
  workflowId?: string;
  now?: Date;
}

export async function startCycle(
  client: Client,
  options: StartCycleOptions,
): Promise<{ workflowId: string; runId: string }> {
  const parsed = CycleInput.safeParse(options.input);
  if (!parsed.success) throw new UserError(`Invalid cycle input: ${formatIssues(parsed.error)}`);
  const input = parsed.data;
  const day = cycleWorkflowId(input.agent, (options.now ?? new Date()).toISOString().slice(0, 10));
  // An ID the caller chose names one cycle; the default one gets a suffix for the day's
  // second, third… cycle, as a second `cycle start` on the same day means another cycle.
  const candidates = options.workflowId
    ? [options.workflowId]
    : Array.from({ length: MAX_CYCLES_PER_DAY }, (_, i) => (i === 0 ? day : `${day}-${i + 1}`));
  for (const workflowId of candidates) {
    try {
      const handle = await client.workflow.start(cycleWorkflow, {
        taskQueue: options.taskQueue,
        workflowId,
        args: [input],
        // A cycle ID names one cycle forever: never reuse it, even after it closed.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: FlywheelAgent, value: input.agent },
          { key: FlywheelStage, value: 'starting' },
          { key: FlywheelOutcome, value: 'in_progress' },
        ],
        staticSummary: `Improvement cycle for ${input.agent}`,
        staticDetails: `Agent **${input.agent}**, window ${input.windowDays} days, sample rate ${input.sampleRate}, optimizer ${input.optimizer.choice?.name ?? "from the agent's configuration"} (${describeBudget(input.optimizer.budget)}).`,
      });
      return { workflowId, runId: handle.firstExecutionRunId };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }
  throw new ConflictError(
    options.workflowId
      ? `A cycle with ID ${options.workflowId} already exists. Choose another --id.`
      : `Agent ${input.agent} already has ${MAX_CYCLES_PER_DAY} cycles today (${day} to ${day}-${MAX_CYCLES_PER_DAY}). Pass --id to start another one.`,
  );
}

export async function cycleStatus(client: Client, cycleId: string): Promise<CycleStatus> {
  try {
    return await client.workflow.getHandle(cycleId).query(statusQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError)
      throw new NotFoundError(`No cycle with ID ${cycleId}. List cycles with: flywheel cycle list`);
    throw error;
  }
}

export interface CycleListing {
  cycleId: string;
  status: string;
  agent: string | undefined;
  stage: string | undefined;
  outcome: string | undefined;
  startTime: Date;
}

export async function listCycles(client: Client, agent?: string, limit = 50): Promise<CycleListing[]> {
  const query = `WorkflowType = '${cycleWorkflow.name}'${agent ? ` AND FlywheelAgent = '${agent.replace(/'/g, '')}'` : ''}`;
  const out: CycleListing[] = [];
  for await (const wf of client.workflow.list({ query })) {
    out.push({
      cycleId: wf.workflowId,
      status: wf.status.name,
      agent: wf.typedSearchAttributes.get(FlywheelAgent),
      stage: wf.typedSearchAttributes.get(FlywheelStage),
      outcome: wf.typedSearchAttributes.get(FlywheelOutcome),
      startTime: wf.startTime,
    });
    if (out.length >= limit) break;
  }
  return out;
}

/** A cycle's annotation items (see queueItems); kept for callers from before queues. */
export async function annotationItems(db: Db, cycleId: string) {
  return queueItems(db, cycleId);
}

/**
 * A reviewer's batch of labels for a cycle's queue (see submitQueueBatch): valid entries
 * are stored and the refused ones reported; when nothing could be stored the call fails
 * with every reason, so a bad submission changes nothing.
 */
export async function submitAnnotations(
  db: Db,
  client: Client,
  cycleId: string,
  body: unknown,
): Promise<BatchResult> {
  const result = await submitQueueBatch(db, client, cycleId, body);
  if (result.stored === 0 && result.errors.length > 0)
    throw new UserError(
      `Nothing was stored: ${result.errors.map((e) => `labels[${e.index}]: ${e.error}`).join('; ')}`,
    );
  return result;
}

async function decide(
  client: Client,
  cycleId: string,
  update: UpdateDefinition<ApprovalResult, [SignedDecision]>,
  decision: SignedDecision,
): Promise<ApprovalResult> {
  try {
    return await client.workflow.getHandle(cycleId).executeUpdate(update, { args: [decision] });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) throw updateRefused(error);
    if (error instanceof WorkflowNotFoundError) {
      // An Update to a finished workflow also lands here: say that it ended, and how.
      const ended = await client.workflow
        .getHandle(cycleId)
        .query(statusQuery)
        .catch(() => null);
      if (ended)
        throw new ConflictError(
          `Cycle ${cycleId} has already ended (outcome: ${ended.outcome}${ended.approval?.by ? `, decided by ${ended.approval.by}` : ''}). Nothing was changed.`,
        );
      throw new NotFoundError(`No cycle with ID ${cycleId}.`);
    }
    throw error;
  }
}

/**
 * The signed-in person's approval of a gated candidate (`body`: `{ comment? }`), signed by
 * the API for them; the workflow verifies the signature and counts them once toward the
 * agent's N-person rule. `decider` is optional only until every caller passes the
 * authenticated person; without one the approval is refused.
 */
export async function approveCycle(
  client: Client,
  cycleId: string,
  body: unknown,
  decider: Decider,
): Promise<ApprovalResult> {
  const { signer, principal } = decider;
  const args = decisionArgs('approve', body);
  return decide(client, cycleId, approveUpdate, signDecision(signer, principal, 'approve', cycleId, args));
}

/** The signed-in person's rejection (`body`: `{ reason }`); one rejection ends the cycle. */
export async function rejectCycle(
  client: Client,
  cycleId: string,
  body: unknown,
  decider: Decider,
): Promise<ApprovalResult> {
  const { signer, principal } = decider;
  const args = decisionArgs('reject', body);
  return decide(client, cycleId, rejectUpdate, signDecision(signer, principal, 'reject', cycleId, args));
}
