import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  type Client,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { sql } from 'kysely';
import type { Db } from '../db/connection.js';
import { AnnotationSubmission } from '../schemas/annotation.js';
import { ApproveRequest, RejectRequest, type ApprovalResult } from '../schemas/approval.js';
import { CycleInput, type CycleInputArg } from '../schemas/cycle-input.js';
import type { CycleStatus } from '../schemas/cycle-status.js';
import {
  annotationsSubmittedSignal,
  approveUpdate,
  rejectUpdate,
  statusQuery,
} from '../workflows/messages.js';
import { FlywheelAgent, FlywheelOutcome, FlywheelStage } from '../workflows/search-attributes.js';
import { cycleWorkflowId } from '../workflows/workflow-ids.js';

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

export async function annotationItems(db: Db, cycleId: string) {
  return db
    .selectFrom('annotation_items')
    .innerJoin('samples', (j) =>
      j
        .onRef('samples.trace_id', '=', 'annotation_items.trace_id')
        .onRef('samples.cycle_id', '=', 'annotation_items.cycle_id'),
    )
    .select([
      'annotation_items.id',
      'annotation_items.trace_id',
      'annotation_items.cluster_id',
      'annotation_items.judge_label',
      'annotation_items.judge_category',
      'annotation_items.status',
      // Reviewers see the redacted copy; the raw trace never leaves the traces table.
      sql<unknown>`samples.redacted -> 'input'`.as('input'),
      sql<unknown>`samples.redacted -> 'output'`.as('output'),
      'samples.redactions',
    ])
    .where('annotation_items.cycle_id', '=', cycleId)
    .orderBy('annotation_items.id')
    .execute();
}

/**
 * Stores a reviewer's labels, then tells the workflow a batch landed. Checks come first
 * (the cycle must be waiting for annotation; every item must belong to it), so a bad
 * submission changes nothing.
 */
export async function submitAnnotations(
  db: Db,
  client: Client,
  cycleId: string,
  body: unknown,
): Promise<{ stored: number; remaining: number; complete: boolean }> {
  const parsed = AnnotationSubmission.safeParse(body);
  if (!parsed.success) throw new UserError(`Invalid annotation submission: ${formatZod(parsed.error)}`);
  const submission = parsed.data;
  const status = await cycleStatus(client, cycleId);
  if (status.stage !== 'awaiting_annotation') {
    throw new UserError(
      `Cycle ${cycleId} is not waiting for annotation (stage: ${status.stage}); nothing was stored.`,
      409,
    );
  }
  const items = await db
    .selectFrom('annotation_items')
    .select(['id', 'status'])
    .where('cycle_id', '=', cycleId)
    .execute();
  const known = new Set(items.map((i) => i.id));
  const unknown = submission.labels.filter((l) => !known.has(l.itemId)).map((l) => l.itemId);
  if (unknown.length > 0) {
    throw new UserError(
      `Unknown annotation item(s) for ${cycleId}: ${unknown.join(', ')}. List them with: flywheel queue ${cycleId}. Nothing was stored.`,
    );
  }
  await db.transaction().execute(async (tx) => {
    for (const label of submission.labels) {
      await tx
        .insertInto('annotations')
        .values({
          item_id: label.itemId,
          reviewer: submission.reviewer,
          verdict: label.verdict,
          category: label.category ?? null,
          expected: label.expected ? JSON.stringify(label.expected) : null,
          comment: label.comment ?? null,
          dimensions: JSON.stringify(label.dimensions ?? {}),
        })
        .onConflict((oc) =>
          oc.columns(['item_id', 'reviewer']).doUpdateSet({
            verdict: label.verdict,
            category: label.category ?? null,
            expected: label.expected ? JSON.stringify(label.expected) : null,
            comment: label.comment ?? null,
            dimensions: JSON.stringify(label.dimensions ?? {}),
            created_at: sql`now()`,
          }),
        )
        .execute();
    }
    await tx
      .updateTable('annotation_items')
      .set({ status: 'labelled' })
      .where(
        'id',
        'in',
        submission.labels.map((l) => l.itemId),
      )
      .execute();
  });
  const { remaining } = await db
    .selectFrom('annotation_items')
    .select(sql<number>`count(*) filter (where status = 'pending')::int`.as('remaining'))
    .where('cycle_id', '=', cycleId)
    .executeTakeFirstOrThrow();
  const complete = remaining === 0;
  await client.workflow.getHandle(cycleId).signal(annotationsSubmittedSignal, {
    reviewer: submission.reviewer,
    count: submission.labels.length,
    complete,
  });
  return { stored: submission.labels.length, remaining, complete };
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
    if (error instanceof WorkflowNotFoundError) throw new UserError(`No cycle with ID ${cycleId}.`, 404);
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
