import type { Transaction } from 'kysely';
import type { Db } from '../db/connection.js';
import type { Database } from '../db/database.js';
import { clusterMembersBySize } from '../diagnosis/store/cluster-repository.js';
import { reviewScores } from '../evaluation/store/score-repository.js';
import { appendAudit } from '../registry/store/audit-log.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import { formatIssues } from '../schemas/format-issues.js';
import {
  AddTraceToQueueRequest,
  AddTracesToQueueRequest,
  TraceIdToAdd,
} from '../schemas/queue-trace-request.js';
import { ConflictError, NotFoundError, UserError } from '../schemas/user-error.js';
import { compileRedactor } from '../traces/pii-redaction.js';
import { insertSamples } from '../traces/store/sample-repository.js';
import { sampleContentOf } from '../traces/store/trace-reader.js';
import { annotationItemId } from './annotation-ids.js';
import { notScoredContext, reviewContext } from './review-context.js';
import {
  addQueueItems,
  BEFORE_ANNOTATION,
  cycleItemOfTrace,
  lockQueueForItems,
} from './store/annotation-writes.js';

/** Why a trace was sampled into the cycle: a person added it to the queue. */
export const ADDED_BY_HAND = 'added_to_queue';

export interface AddedTrace {
  itemId: string;
  queueId: string;
  cycleId: string;
  traceId: string;
  /** Who added it: the authenticated person. */
  addedBy: string;
  /** The trace's cluster in this cycle, when the cycle clustered it. */
  clusterId: string | null;
  /** The judge's verdict of this cycle, or `not_scored` for a trace the cycle did not score. */
  judgeLabel: string;
  requiredReviews: number;
}

/** One refused entry of a batch add, by its index in `traceIds`, with the status a single add answers. */
export interface AddTraceRefusal {
  index: number;
  traceId: string | null;
  status: number;
  error: string;
}

export interface AddedTraces {
  queueId: string;
  cycleId: string;
  added: AddedTrace[];
  errors: AddTraceRefusal[];
}

type Tx = Transaction<Database>;
type LockedQueue = NonNullable<Awaited<ReturnType<typeof lockQueueForItems>>>;

/** The queue locked for adding, or the 404 / 409 that says why it takes no trace. */
async function openQueueForAdding(tx: Tx, queueIdOrCycleId: string): Promise<LockedQueue['queue']> {
  const locked = await lockQueueForItems(tx, queueIdOrCycleId);
  if (!locked)
    throw new NotFoundError(
      `No annotation queue ${queueIdOrCycleId} (a queue id or a cycle id). List queues with GET /api/queues. Nothing was stored.`,
    );
  const { queue, stage } = locked;
  if (queue.status !== 'open' || (stage !== 'awaiting_annotation' && !BEFORE_ANNOTATION.has(stage)))
    throw new ConflictError(
      queue.status === 'complete'
        ? `Queue ${queue.id} is complete (quorum reached); it takes no more items. Add the trace to an open queue of agent ${queue.agent_id}. Nothing was stored.`
        : `Queue ${queue.id} is closed: cycle ${queue.cycle_id} is past annotation (stage: ${stage}). Add the trace to an open queue of agent ${queue.agent_id}. Nothing was stored.`,
    );
  return queue;
}

/** What every trace added to one queue shares: read once per request. */
async function addingContext(tx: Tx, queue: LockedQueue['queue']) {
  const config = await agentConfig(tx, queue.agent_id);
  const policy = config.annotation;
  const clusterOf = new Map(
    (await clusterMembersBySize(tx, queue.cycle_id)).map((m) => [m.trace_id, m.cluster_id] as const),
  );
  return {
    queue,
    config,
    redactor: compileRedactor(config.redaction),
    clusterOf,
    requiredReviews:
      policy.reviewers.length > 0
        ? Math.min(policy.reviewersPerItem, policy.reviewers.length)
        : policy.reviewersPerItem,
  };
}

/**
 * Adds one trace to the locked queue. Every refusal (unknown trace, another agent's, already
 * queued) is thrown before the first write, so a refused trace leaves nothing behind.
 */
async function addOne(
  tx: Tx,
  ctx: Awaited<ReturnType<typeof addingContext>>,
  traceId: string,
  addedBy: string,
): Promise<AddedTrace> {
  const { queue, config } = ctx;
  const trace = await sampleContentOf(tx, traceId);
  // Another agent's trace reads as unknown: the caller's role is for this queue's agent only.
  if (!trace || trace.agent_id !== queue.agent_id)
    throw new NotFoundError(
      `Agent ${queue.agent_id} has no trace "${traceId}" (queue ${queue.id} takes only its agent's traces). List them with GET /api/traces?agent=${encodeURIComponent(queue.agent_id)}. Nothing was stored.`,
    );
  const existing = await cycleItemOfTrace(tx, queue.cycle_id, traceId);
  if (existing)
    throw new ConflictError(
      `Trace ${traceId} is already in queue ${existing.queue_id ?? queue.id} as item ${existing.id}. Nothing was stored.`,
    );

  const { id: _id, agent_id: _agent, ...visible } = trace;
  const { value, counts } = ctx.redactor.redactValue(visible);
  await insertSamples(tx, [
    {
      cycle_id: queue.cycle_id,
      trace_id: traceId,
      reason: ADDED_BY_HAND,
      reasons: [ADDED_BY_HAND],
      redacted: JSON.stringify(value),
      redactions: JSON.stringify(counts),
    },
  ]);
  const scores = await reviewScores(tx, queue.cycle_id, [traceId]);
  const context =
    scores.length > 0
      ? reviewContext(scores, config.evaluation.cascade.minCodeConfidence)
      : notScoredContext();
  const clusterId = ctx.clusterOf.get(traceId) ?? null;
  const itemId = annotationItemId(queue.cycle_id, traceId);
  await addQueueItems(tx, [
    {
      id: itemId,
      queue_id: queue.id,
      cycle_id: queue.cycle_id,
      trace_id: traceId,
      cluster_id: clusterId,
      required_reviews: ctx.requiredReviews,
      ...context,
    },
  ]);
  await appendAudit(tx, {
    actor: addedBy,
    action: 'queue.add_trace',
    artifact: itemId,
    detail: { queueId: queue.id, cycleId: queue.cycle_id, traceId },
  });
  return {
    itemId,
    queueId: queue.id,
    cycleId: queue.cycle_id,
    traceId,
    addedBy,
    clusterId,
    judgeLabel: context.judge_label,
    requiredReviews: ctx.requiredReviews,
  };
}

/**
 * Adds one trace of the queue's agent to an open annotation queue, as LangSmith's "add to
 * annotation queue" does: the trace joins the cycle's sample (its PII-redacted copy, as the
 * sampler stores it, unless the cycle sampled it already), becomes an item every reviewer of
 * the queue may claim, and the audit log records who added it, in one transaction. A trace
 * the cycle scored carries the judge's verdict and its cluster; any other carries none. The
 * queue is locked first (the lock order of annotation-writes.ts), so an add and the last
 * label that completes the queue take turns.
 */
export async function addTraceToQueue(db: Db, queueIdOrCycleId: string, body: unknown): Promise<AddedTrace> {
  const parsed = AddTraceToQueueRequest.safeParse(body);
  if (!parsed.success)
    throw new UserError(`Invalid request to add a trace: ${formatIssues(parsed.error)}. Nothing was stored.`);
  const { traceId, addedBy } = parsed.data;
  return db.transaction().execute(async (tx) => {
    const queue = await openQueueForAdding(tx, queueIdOrCycleId);
    return addOne(tx, await addingContext(tx, queue), traceId, addedBy);
  });
}

/**
 * Adds several traces to one queue, as the trace search's "add to queue" for a selection:
 * each trace is added as `addTraceToQueue` adds one, and one that cannot be (unknown,
 * another agent's, already queued, a bad id, named twice) is reported by its index without
 * keeping the others out. The queue is locked once for the whole list, in one transaction;
 * a queue that takes no trace (unknown, closed, complete) refuses the request as a whole.
 */
export async function addTracesToQueue(
  db: Db,
  queueIdOrCycleId: string,
  body: unknown,
): Promise<AddedTraces> {
  const parsed = AddTracesToQueueRequest.safeParse(body);
  if (!parsed.success)
    throw new UserError(`Invalid request to add traces: ${formatIssues(parsed.error)}. Nothing was stored.`);
  const { traceIds, addedBy } = parsed.data;
  return db.transaction().execute(async (tx) => {
    const queue = await openQueueForAdding(tx, queueIdOrCycleId);
    const ctx = await addingContext(tx, queue);
    const added: AddedTrace[] = [];
    const errors: AddTraceRefusal[] = [];
    for (const [index, raw] of traceIds.entries()) {
      const id = TraceIdToAdd.safeParse(raw);
      if (!id.success) {
        errors.push({
          index,
          traceId: typeof raw === 'string' ? raw : null,
          status: 400,
          error: `traceIds[${index}]: ${formatIssues(id.error)}. It was not added.`,
        });
        continue;
      }
      try {
        added.push(await addOne(tx, ctx, id.data, addedBy));
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        // The others are stored: say that this one alone was not.
        const message = error.message.replace(/ Nothing was stored\.$/, ' It was not added.');
        errors.push({ index, traceId: id.data, status: error.status, error: message });
      }
    }
    return { queueId: queue.id, cycleId: queue.cycle_id, added, errors };
  });
}
