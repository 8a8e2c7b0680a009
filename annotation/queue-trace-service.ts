import type { Db } from '../db/connection.js';
import { clusterMembersBySize } from '../diagnosis/store/cluster-repository.js';
import { reviewScores } from '../evaluation/store/score-repository.js';
import { appendAudit } from '../registry/store/audit-log.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import { formatIssues } from '../schemas/format-issues.js';
import { AddTraceToQueueRequest } from '../schemas/queue-trace-request.js';
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

    const config = await agentConfig(tx, queue.agent_id);
    const { id: _id, agent_id: _agent, ...visible } = trace;
    const { value, counts } = compileRedactor(config.redaction).redactValue(visible);
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
    const clusterId =
      (await clusterMembersBySize(tx, queue.cycle_id)).find((m) => m.trace_id === traceId)?.cluster_id ??
      null;
    const policy = config.annotation;
    const requiredReviews =
      policy.reviewers.length > 0
        ? Math.min(policy.reviewersPerItem, policy.reviewers.length)
        : policy.reviewersPerItem;
    const itemId = annotationItemId(queue.cycle_id, traceId);
    await addQueueItems(tx, [
      {
        id: itemId,
        queue_id: queue.id,
        cycle_id: queue.cycle_id,
        trace_id: traceId,
        cluster_id: clusterId,
        required_reviews: requiredReviews,
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
      requiredReviews,
    };
  });
}
