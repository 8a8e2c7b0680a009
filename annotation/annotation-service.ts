import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection.js';
import { findCycleStage } from '../cycles/store/cycle-repository.js';
import {
  completeItemCount,
  findQueue,
  itemQueueId,
  queueItem,
  queueItemIds,
  queueItemSummaries,
  queueItems,
  remainingItemCount,
  reviewerLabel,
  type AnnotationQueue,
} from './store/annotation-reads.js';
import { AgentAction } from '../schemas/trace.js';
import {
  AnnotationBatch,
  AnnotationLabel,
  ClaimRequest,
  ItemAnnotationRequest,
} from '../schemas/annotation.js';
import { annotationsSubmittedSignal } from '../workflows/messages.js';
import {
  BEFORE_ANNOTATION,
  claimItem,
  claimQuorumNotice,
  releaseItem,
  releaseQuorumNotice,
  storeAnnotation,
  type StoredAnnotation,
} from './store/annotation-writes.js';
import { ConflictError, NotFoundError, UserError } from '../schemas/user-error.js';
import { formatIssues } from '../schemas/format-issues.js';
import { displayedCategory } from '../schemas/failure-category.js';
import { annotationTemplate, type AnnotationTemplate } from './annotation-template.js';
import { describeParameters } from './expected-step-check.js';
import { storedAgentConfig } from '../registry/store/agent-repository.js';
import { AgentConfig } from '../schemas/agent-config.js';
import type { Tool } from '../evaluation/tool-argument-validity.js';

export async function requireQueue(db: Db, queueIdOrCycleId: string): Promise<AnnotationQueue> {
  const queue = await findQueue(db, queueIdOrCycleId);
  if (!queue)
    throw new NotFoundError(
      `No annotation queue ${queueIdOrCycleId} (a queue id or a cycle id). List queues with: flywheel queue list`,
    );
  return queue;
}

/**
 * Tells the cycle workflow, once, that its queue reached quorum. The notice is claimed in
 * the database before the signal goes out, so concurrent API replicas send it at most
 * once; a failed signal gives the claim back for the next caller to retry.
 */
export async function notifyQueueComplete(
  db: Db,
  client: Client,
  queueId: string,
  reviewer: string,
): Promise<boolean> {
  const cycleId = await claimQuorumNotice(db, queueId);
  if (cycleId === undefined) return false;
  const count = await completeItemCount(db, queueId);
  try {
    await client.workflow
      .getHandle(cycleId)
      .signal(annotationsSubmittedSignal, { reviewer, count, complete: true });
  } catch (error) {
    await releaseQuorumNotice(db, queueId);
    throw error;
  }
  return true;
}

export async function claimAnnotationItem(db: Db, itemId: string, body: unknown) {
  const parsed = ClaimRequest.safeParse(body);
  if (!parsed.success) throw new UserError(`Invalid claim: ${formatIssues(parsed.error)}`);
  return db.transaction().execute((tx) => claimItem(tx, itemId, parsed.data.reviewer));
}

export async function releaseAnnotationItem(db: Db, itemId: string, body: unknown) {
  const parsed = ClaimRequest.safeParse(body);
  if (!parsed.success) throw new UserError(`Invalid release: ${formatIssues(parsed.error)}`);
  return db.transaction().execute((tx) => releaseItem(tx, itemId, parsed.data.reviewer));
}

export interface Notice {
  /** This call told the cycle workflow that the queue reached quorum. */
  notified: boolean;
  /** Why telling the workflow failed; the labels are stored and the next call retries. */
  notifyError?: string;
}

/**
 * Sends the quorum notice if it is due (queue complete, nobody told the workflow yet).
 * Called after every write, successful or refused, so a notice lost to a Temporal outage
 * goes out with the next reviewer's call; its failure never hides a stored label.
 */
async function noticeIfDue(
  db: Db,
  client: Client,
  queueId: string | null,
  reviewer: string,
): Promise<Notice> {
  if (!queueId) return { notified: false };
  try {
    return { notified: await notifyQueueComplete(db, client, queueId, reviewer) };
  } catch (error) {
    return { notified: false, notifyError: error instanceof Error ? error.message : String(error) };
  }
}

/** One reviewer's label on one item they claimed; the workflow hears when quorum is reached. */
export async function annotateItem(
  db: Db,
  client: Client,
  itemId: string,
  body: unknown,
): Promise<StoredAnnotation & Notice> {
  const parsed = ItemAnnotationRequest.safeParse(body);
  if (!parsed.success) throw new UserError(`Invalid annotation: ${formatIssues(parsed.error)}`);
  const { reviewer, ...label } = parsed.data;
  try {
    const stored = await db
      .transaction()
      .execute((tx) => storeAnnotation(tx, itemId, reviewer, label, { autoClaim: false }));
    return { ...stored, ...(await noticeIfDue(db, client, stored.queueId, reviewer)) };
  } catch (error) {
    await noticeIfDue(db, client, (await itemQueueId(db, itemId)) ?? null, reviewer);
    throw error;
  }
}

export interface BatchResult extends Notice {
  queueId: string;
  cycleId: string;
  stored: number;
  /** Entries that were not stored, by their index in `labels`, each with its reason. */
  errors: { index: number; itemId: string | null; error: string }[];
  /** Items of the queue not complete yet. */
  remaining: number;
  /** The queue reached its quorum (now or before). */
  complete: boolean;
}

/**
 * A reviewer's batch of labels for one queue: each entry claims its item when a slot is
 * free and is stored in its own transaction, so a malformed or refused entry is reported
 * by index and the valid ones next to it are kept. A queue that takes no labels at all
 * (closed, complete, not open yet) refuses the whole batch.
 */
export async function submitQueueBatch(
  db: Db,
  client: Client,
  queueIdOrCycleId: string,
  body: unknown,
): Promise<BatchResult> {
  const envelope = AnnotationBatch.safeParse(body);
  if (!envelope.success)
    throw new UserError(`Invalid annotation submission: ${formatIssues(envelope.error)}`);
  const { reviewer, labels } = envelope.data;
  const queue = await requireQueue(db, queueIdOrCycleId);
  const stage = await findCycleStage(db, queue.cycle_id);
  // Before the cycle opens the queue, entries are refused one by one (they may name unknown items).
  const preparing = stage ? BEFORE_ANNOTATION.has(stage) : false;
  if (queue.status !== 'open' || (stage !== 'awaiting_annotation' && !preparing)) {
    await noticeIfDue(db, client, queue.id, reviewer);
    throw new ConflictError(
      queue.status === 'complete'
        ? `Queue ${queue.id} is complete (quorum reached); it takes no more labels. Nothing was stored.`
        : `Cycle ${queue.cycle_id} is not waiting for annotation (stage: ${stage ?? 'unknown'}, queue ${queue.status}). Nothing was stored.`,
    );
  }
  const known = new Set(await queueItemIds(db, queue.id));
  const errors: BatchResult['errors'] = [];
  let stored = 0;
  for (const [index, raw] of labels.entries()) {
    const entry = AnnotationLabel.safeParse(raw);
    const rawId = (raw as { itemId?: unknown } | null)?.itemId;
    const itemId = entry.success ? entry.data.itemId : typeof rawId === 'string' ? rawId : null;
    if (!entry.success) {
      errors.push({ index, itemId, error: `malformed label: ${formatIssues(entry.error)}` });
      continue;
    }
    const { itemId: id, ...label } = entry.data;
    if (!known.has(id)) {
      errors.push({
        index,
        itemId: id,
        error: `Unknown annotation item ${id} in queue ${queue.id}; list its items with: flywheel queue show ${queue.cycle_id}`,
      });
      continue;
    }
    try {
      await db.transaction().execute((tx) => storeAnnotation(tx, id, reviewer, label, { autoClaim: true }));
      stored++;
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      errors.push({ index, itemId: id, error: error.message });
    }
  }
  const notice = await noticeIfDue(db, client, queue.id, reviewer);
  const remaining = await remainingItemCount(db, queue.id);
  const complete = (await requireQueue(db, queue.id)).status === 'complete';
  return {
    queueId: queue.id,
    cycleId: queue.cycle_id,
    stored,
    errors,
    remaining,
    complete,
    ...notice,
  };
}

/**
 * A reviewer's batch as read from a file (`annotate --file`): the queue is `queue` when
 * given, else the file's `queue`, else the queue of its first item.
 */
export async function submitAnnotationFile(
  db: Db,
  client: Client,
  body: unknown,
  options: { queue?: string; source: string; reviewer: string },
): Promise<BatchResult> {
  const file = (body ?? {}) as { queue?: unknown; labels?: unknown; reviewer?: unknown };
  // The file names its reviewer (the template writes it); the person submitting is who the
  // credentials say, and a file signed by someone else is refused rather than relabelled.
  if (file.reviewer !== undefined && file.reviewer !== options.reviewer)
    throw new UserError(
      `${options.source} is signed by reviewer ${JSON.stringify(file.reviewer)}, but you are ${options.reviewer}: submit your own file (flywheel queue show <queue> --template <file>). Nothing was stored.`,
      'forbidden',
    );
  let queueId = options.queue ?? (typeof file.queue === 'string' ? file.queue : undefined);
  const head: unknown = Array.isArray(file.labels) ? file.labels[0] : undefined;
  const first = head !== null && typeof head === 'object' ? (head as { itemId?: unknown }).itemId : undefined;
  if (!queueId && typeof first === 'string') queueId = (await itemQueueId(db, first)) ?? undefined;
  if (!queueId) throw new UserError(`${options.source} names no queue; pass --queue <queueOrCycleId>.`);
  return submitQueueBatch(db, client, queueId, { ...file, reviewer: options.reviewer });
}

/**
 * The batch file a reviewer edits and submits with `annotate --file`: the queue's open items
 * (those `filter` keeps), signed by `reviewer`; see annotation-template.ts.
 */
export async function queueTemplate(
  db: Db,
  queueIdOrCycleId: string,
  reviewer: string,
  filter: { reviewer?: string; status?: string } = {},
): Promise<AnnotationTemplate> {
  const queue = await requireQueue(db, queueIdOrCycleId);
  return annotationTemplate(queue.id, reviewer, await listQueueItems(db, queue.id, filter));
}

/** The queue and the checked filter of a request for its items. */
async function itemsRequest(
  db: Db,
  queueIdOrCycleId: string,
  filter: { reviewer?: string; status?: string },
) {
  const queue = await requireQueue(db, queueIdOrCycleId);
  const statuses = ['pending', 'in_progress', 'complete'] as const;
  const status = statuses.find((s) => s === filter.status);
  if (filter.status && !status)
    throw new UserError(`Unknown status "${filter.status}"; use one of ${statuses.join(', ')}.`);
  return {
    cycleId: queue.cycle_id,
    filter: { ...(filter.reviewer ? { reviewer: filter.reviewer } : {}), ...(status ? { status } : {}) },
  };
}

// Items queued before categories were unified may hold a finer name: show its category.
const withCategory = <T extends { judge_category: string | null }>(i: T) => ({
  ...i,
  judge_category: displayedCategory(i.judge_category) ?? null,
});

/** The items of a queue (by queue or cycle id) with their live status and redacted traces. */
export async function listQueueItems(
  db: Db,
  queueIdOrCycleId: string,
  filter: { reviewer?: string; status?: string } = {},
) {
  const request = await itemsRequest(db, queueIdOrCycleId, filter);
  return (await queueItems(db, request.cycleId, request.filter)).map(withCategory);
}

/**
 * The items of a queue as its list shows them: id, trace, status, the judge's verdict and
 * category, the reviewers' verdict so far, a short preview (the last user message and the
 * agent's action), live claims and who labelled; no trace, no judge explanation (a thousand
 * full items weigh most of a megabyte).
 */
export async function listQueueItemSummaries(
  db: Db,
  queueIdOrCycleId: string,
  filter: { reviewer?: string; status?: string } = {},
) {
  const request = await itemsRequest(db, queueIdOrCycleId, filter);
  // Short keys, and a field only when it says something: the weight of a thousand items is
  // mostly keys and ids, not the previews.
  return (await queueItemSummaries(db, request.cycleId, request.filter)).map((r) => {
    const category = displayedCategory(r.judge_category);
    return {
      id: r.id,
      traceId: r.trace_id,
      status: r.status,
      verdict: r.judge_label,
      ...(category ? { category } : {}),
      ...(r.inputPreview ? { preview: r.inputPreview } : {}),
      ...(r.outputAction ? { action: r.outputAction } : {}),
      ...(r.claims.length > 0 ? { claims: r.claims } : {}),
      ...(r.labelledBy.length > 0 ? { labelledBy: r.labelledBy } : {}),
      // The reviewers' verdict so far (the consensus of the labels stored), beside the judge's.
      ...(r.consensus_verdict ? { reviewerVerdict: r.consensus_verdict } : {}),
      ...(r.disagreement ? { split: true } : {}),
    };
  });
}

/**
 * An agent's tools as its stored configuration declares them. Read as stored: an agent whose
 * configuration no longer validates (or is gone) keeps its items readable, with no tools
 * listed, rather than failing the whole item.
 */
export async function agentTools(db: Db, agent: string): Promise<Tool[]> {
  return (await agentReviewSetup(db, agent)).tools;
}

/**
 * The agent's tools and who may label its items (empty: every reviewer of the agent), read
 * as agentTools reads them: an unreadable configuration lists neither.
 */
export async function agentReviewSetup(
  db: Db,
  agent: string,
): Promise<{ tools: Tool[]; reviewers: readonly string[] }> {
  const config = AgentConfig.safeParse(await storedAgentConfig(db, agent));
  return config.success
    ? { tools: config.data.tools, reviewers: config.data.annotation.reviewers }
    : { tools: [], reviewers: [] };
}

/**
 * One item with its redacted trace, as listQueueItems lists it, the label `reader` stored on
 * it (null when none): what they see, and change while the queue is open, and the agent's
 * tools with what each takes, for the expected step.
 */
export async function showQueueItem(db: Db, itemId: string, reader: string) {
  const found = await queueItem(db, itemId);
  if (!found) throw new NotFoundError(`No annotation item "${itemId}".`);
  const { agent, ...item } = found;
  const own = await reviewerLabel(db, itemId, reader);
  const expected = AgentAction.safeParse(own?.expected);
  // The agent's tools, each with what it takes in the words of the check a label's tool call
  // must pass (expected-step-check.ts): a reviewer names a tool and its arguments from the
  // form, not from memory or from a conversation that may not show the tool at all.
  const tools = await agentTools(db, agent);
  return {
    ...withCategory(item),
    tools: tools.map((t) => ({ name: t.name, takes: describeParameters(t.parameters) })),
    yourLabel: own
      ? {
          verdict: own.verdict,
          category: displayedCategory(own.category) ?? null,
          expected: expected.success ? expected.data : null,
          comment: own.comment,
          dimensions: own.dimensions,
          scores: own.scores,
          slices: own.slices,
          labelledAt: own.created_at,
        }
      : null,
  };
}

// Reads the API and the CLI show as the store returns them.
export { itemQueueId, listQueues } from './store/annotation-reads.js';
