import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  type Client,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { queueItems } from '../annotation/store/annotation-queue-repository.js';
import type { Db } from '../db/connection.js';
import { ApproveRequest, RejectRequest, type ApprovalResult } from '../schemas/approval.js';
import { CycleInput, type CycleInputArg } from '../schemas/cycle-input.js';
import type { CycleStatus } from '../schemas/cycle-status.js';
import { approveUpdate, rejectUpdate, statusQuery } from '../workflows/messages.js';
import { FlywheelAgent, FlywheelOutcome, FlywheelStage } from '../workflows/search-attributes.js';
import { cycleWorkflowId } from '../workflows/workflow-ids.js';
import { submitQueueBatch, type BatchResult } from '../annotation/annotation-service.js';

/** An error a person can act on: the CLI prints the message alone, the API returns it as 4xx. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

function formatZod(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ');
}

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
  if (!parsed.success) throw new UserError(`Invalid cycle input: ${formatZod(parsed.error)}`);
  const input = parsed.data;
  const workflowId =
    options.workflowId ??
    cycleWorkflowId(input.agent, (options.now ?? new Date()).toISOString().slice(0, 10));
  try {
    const handle = await client.workflow.start('cycleWorkflow', {
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
      staticDetails: `Agent **${input.agent}**, window ${input.windowDays} days, sample rate ${input.sampleRate}, optimizer ${input.optimizer.choice?.name ?? "from the agent's configuration"} (${input.optimizer.budget.maxRollouts} rollouts).`,
    });
    return { workflowId, runId: handle.firstExecutionRunId };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new UserError(
        `A cycle with ID ${workflowId} already exists. Pass --id to start another one today.`,
        409,
      );
    }
    throw error;
  }
}

export async function cycleStatus(client: Client, cycleId: string): Promise<CycleStatus> {
  try {
    return await client.workflow.getHandle(cycleId).query(statusQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError)
      throw new UserError(`No cycle with ID ${cycleId}. List cycles with: flywheel cycle list`, 404);
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
  const query = `WorkflowType = 'cycleWorkflow'${agent ? ` AND FlywheelAgent = '${agent.replace(/'/g, '')}'` : ''}`;
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
  update: typeof approveUpdate | typeof rejectUpdate,
  arg: unknown,
): Promise<ApprovalResult> {
  try {
    return await client.workflow
      .getHandle(cycleId)
      .executeUpdate(update as typeof approveUpdate, { args: [arg as never] });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      throw new UserError(`${error.cause?.message ?? error.message} Nothing was changed.`, 409);
    }
    if (error instanceof WorkflowNotFoundError) {
      // An Update to a finished workflow also lands here: say that it ended, and how.
      const ended = await client.workflow
        .getHandle(cycleId)
        .query(statusQuery)
        .catch(() => null);
      if (ended)
        throw new UserError(
          `Cycle ${cycleId} has already ended (outcome: ${ended.outcome}${ended.approval?.by ? `, decided by ${ended.approval.by}` : ''}). Nothing was changed.`,
          409,
        );
      throw new UserError(`No cycle with ID ${cycleId}.`, 404);
    }
    throw error;
  }
}

export async function approveCycle(
  client: Client,
  cycleId: string,
  request: unknown,
): Promise<ApprovalResult> {
  const parsed = ApproveRequest.safeParse(request);
  if (!parsed.success) throw new UserError(`Invalid approval: ${formatZod(parsed.error)}`);
  return decide(client, cycleId, approveUpdate, parsed.data);
}

export async function rejectCycle(
  client: Client,
  cycleId: string,
  request: unknown,
): Promise<ApprovalResult> {
  const parsed = RejectRequest.safeParse(request);
  if (!parsed.success) throw new UserError(`Invalid rejection: ${formatZod(parsed.error)}`);
  return decide(client, cycleId, rejectUpdate, parsed.data);
}
