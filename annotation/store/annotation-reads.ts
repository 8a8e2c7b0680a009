import { sql, type Selectable } from 'kysely';
import type { Db } from '../../db/connection.js';
import type { AnnotationQueuesTable } from '../../db/database.js';

/**
 * Every read of the annotation tables (annotation_queues, annotation_items, annotations,
 * annotation_claims, annotation_assignments) outside a write. Reads take no locks and see
 * what is committed; an item's live status is computed on the database clock (`itemStatus`)
 * so every API replica agrees when a claim expired. Every write, and the reads a write
 * depends on, live in annotation-writes.ts, under its lock order.
 */

export type AnnotationQueue = Selectable<AnnotationQueuesTable>;
export type ItemStatus = 'pending' | 'in_progress' | 'complete';

/**
 * An item's status as of the database clock: complete once its reviews are in; in progress
 * while it has a label or a live claim; pending otherwise (an expired claim frees it again).
 */
export const itemStatus = sql<ItemStatus>`case
  when annotation_items.status = 'complete' then 'complete'
  when exists (select 1 from annotations a where a.item_id = annotation_items.id)
    or exists (select 1 from annotation_claims c where c.item_id = annotation_items.id and c.expires_at > now())
  then 'in_progress'
  else 'pending' end`;

/** A queue by its own id or by its cycle's id (one queue per cycle). */
export async function findQueue(db: Db, queueIdOrCycleId: string): Promise<AnnotationQueue | undefined> {
  return db
    .selectFrom('annotation_queues')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', queueIdOrCycleId), eb('cycle_id', '=', queueIdOrCycleId)]))
    .executeTakeFirst();
}

export async function listQueues(db: Db, agent?: string, limit = 100) {
  let query = db
    .selectFrom('annotation_queues')
    .leftJoin('annotation_items', 'annotation_items.queue_id', 'annotation_queues.id')
    .select([
      'annotation_queues.id',
      'annotation_queues.agent_id',
      'annotation_queues.cycle_id',
      'annotation_queues.name',
      'annotation_queues.status',
      'annotation_queues.reviewers_per_item',
      'annotation_queues.quorum',
      'annotation_queues.created_at',
      'annotation_queues.completed_at',
      sql<number>`count(annotation_items.id)::int`.as('items'),
      sql<number>`count(annotation_items.id) filter (where annotation_items.status = 'complete')::int`.as(
        'complete',
      ),
    ])
    .groupBy('annotation_queues.id')
    .orderBy('annotation_queues.created_at', 'desc')
    .orderBy('annotation_queues.id')
    .limit(limit);
  if (agent) query = query.where('annotation_queues.agent_id', '=', agent);
  return query.execute();
}

export interface ReviewerProgress {
  reviewer: string;
  /** Items the round-robin assigned to the reviewer. */
  assigned: number;
  /** Live (unexpired) claims the reviewer holds. */
  claimed: number;
  /** Items the reviewer has labelled. */
  completed: number;
  /** Assigned items still incomplete that the reviewer has not labelled: what a reminder names. */
  open: number;
}

export interface QueueProgress {
  queueId: string;
  cycleId: string;
  agent: string;
  status: AnnotationQueue['status'];
  total: number;
  complete: number;
  inProgress: number;
  pending: number;
  quorum: number;
  quorumReached: boolean;
  byReviewer: ReviewerProgress[];
}

/** Where a queue stands, per item status and per reviewer; null when there is no such queue. */
export async function queueProgress(db: Db, queueIdOrCycleId: string): Promise<QueueProgress | null> {
  const queue = await findQueue(db, queueIdOrCycleId);
  if (!queue) return null;
  const items = await db
    .selectFrom('annotation_items')
    .select(['id', itemStatus.as('status')])
    .where('queue_id', '=', queue.id)
    .execute();
  const statusOf = new Map(items.map((i) => [i.id, i.status]));
  const [assignments, claims, labels] = await Promise.all([
    db
      .selectFrom('annotation_assignments')
      .innerJoin('annotation_items', 'annotation_items.id', 'annotation_assignments.item_id')
      .select(['annotation_assignments.reviewer', 'annotation_assignments.item_id'])
      .where('annotation_items.queue_id', '=', queue.id)
      .execute(),
    db
      .selectFrom('annotation_claims')
      .innerJoin('annotation_items', 'annotation_items.id', 'annotation_claims.item_id')
      .select(['annotation_claims.reviewer', 'annotation_claims.item_id'])
      .where('annotation_items.queue_id', '=', queue.id)
      .where('annotation_claims.expires_at', '>', sql<Date>`now()`)
      .execute(),
    db
      .selectFrom('annotations')
      .innerJoin('annotation_items', 'annotation_items.id', 'annotations.item_id')
      .select(['annotations.reviewer', 'annotations.item_id'])
      .where('annotation_items.queue_id', '=', queue.id)
      .execute(),
  ]);
  const labelled = new Set(labels.map((l) => `${l.reviewer}\u0000${l.item_id}`));
  const reviewers = [...new Set([...assignments, ...claims, ...labels].map((r) => r.reviewer))].sort();
  const byReviewer = reviewers.map((reviewer) => {
    const mine = assignments.filter((a) => a.reviewer === reviewer);
    return {
      reviewer,
      assigned: mine.length,
      claimed: claims.filter((c) => c.reviewer === reviewer).length,
      completed: labels.filter((l) => l.reviewer === reviewer).length,
      open: mine.filter(
        (a) => statusOf.get(a.item_id) !== 'complete' && !labelled.has(`${reviewer}\u0000${a.item_id}`),
      ).length,
    };
  });
  const count = (s: ItemStatus) => items.filter((i) => i.status === s).length;
  const complete = count('complete');
  return {
    queueId: queue.id,
    cycleId: queue.cycle_id,
    agent: queue.agent_id,
    status: queue.status,
    total: items.length,
    complete,
    inProgress: count('in_progress'),
    pending: count('pending'),
    quorum: queue.quorum,
    quorumReached: items.length > 0 && complete / items.length >= queue.quorum,
    byReviewer,
  };
}

/** Characters of the conversation preview a queue's list shows per item. */
const PREVIEW_CHARS = 80;

/**
 * Items of a cycle (or the one item `itemId`) with what every view of them needs: the
 * judge's verdict and explanation, the failing step, who is assigned, who holds a live claim
 * and who labelled, joined to the cycle's sample of the trace.
 */
function itemRows(db: Db, where: { cycleId: string } | { itemId: string }) {
  const query = db
    .selectFrom('annotation_items')
    .innerJoin('samples', (j) =>
      j
        .onRef('samples.trace_id', '=', 'annotation_items.trace_id')
        .onRef('samples.cycle_id', '=', 'annotation_items.cycle_id'),
    )
    .select([
      'annotation_items.id',
      'annotation_items.queue_id',
      'annotation_items.trace_id',
      'annotation_items.cluster_id',
      'annotation_items.judge_label',
      'annotation_items.judge_category',
      'annotation_items.judge_explanation',
      'annotation_items.verdict_source',
      'annotation_items.failing_step',
      'annotation_items.failing_finding',
      'annotation_items.required_reviews',
      'annotation_items.consensus_verdict',
      'annotation_items.disagreement',
      'annotation_items.completed_at',
      itemStatus.as('status'),
      sql<
        string[]
      >`coalesce((select array_agg(s.reviewer order by s.reviewer) from annotation_assignments s where s.item_id = annotation_items.id), '{}')`.as(
        'assigned',
      ),
      sql<
        { reviewer: string; expiresAt: string }[]
      >`coalesce((select json_agg(json_build_object('reviewer', c.reviewer, 'expiresAt', c.expires_at) order by c.reviewer) from annotation_claims c where c.item_id = annotation_items.id and c.expires_at > now()), '[]')`.as(
        'claims',
      ),
      sql<
        string[]
      >`coalesce((select array_agg(a.reviewer order by a.reviewer) from annotations a where a.item_id = annotation_items.id), '{}')`.as(
        'labelledBy',
      ),
    ])
    .orderBy('annotation_items.id');
  return 'itemId' in where
    ? query.where('annotation_items.id', '=', where.itemId)
    : query.where('annotation_items.cycle_id', '=', where.cycleId);
}

type ItemFilter = { reviewer?: string; status?: ItemStatus };

/**
 * `reviewer` keeps the items assigned to, claimed or labelled by that reviewer (every item
 * when the queue assigns nobody); `status` filters on the live status.
 */
function matches(
  r: { status: ItemStatus; assigned: string[]; labelledBy: string[]; claims: { reviewer: string }[] },
  filter: ItemFilter,
): boolean {
  if (filter.status && r.status !== filter.status) return false;
  if (!filter.reviewer) return true;
  const who = filter.reviewer;
  return (
    r.assigned.length === 0 ||
    r.assigned.includes(who) ||
    r.labelledBy.includes(who) ||
    r.claims.some((c) => c.reviewer === who)
  );
}

/**
 * A cycle's annotation items as reviewers see them, each with its redacted trace (input and
 * output as sampled). The CLI's `queue show` reads this; a page of a thousand items reads
 * queueItemSummaries and one item at a time with queueItem.
 */
export async function queueItems(db: Db, cycleId: string, filter: ItemFilter = {}) {
  const rows = await itemRows(db, { cycleId })
    .select([
      // Reviewers see the redacted copy; the raw trace never leaves the traces table.
      sql<unknown>`samples.redacted -> 'input'`.as('input'),
      sql<unknown>`samples.redacted -> 'output'`.as('output'),
      'samples.redactions',
    ])
    .execute();
  return rows.filter((r) => matches(r, filter));
}

/**
 * A cycle's items without their traces: per item a preview of the conversation (the last
 * user message and the agent's action, cut short) instead of the sampled input and output.
 */
export async function queueItemSummaries(db: Db, cycleId: string, filter: ItemFilter = {}) {
  const rows = await itemRows(db, { cycleId })
    .select([
      sql<string | null>`left((
        select e.m ->> 'content'
        from jsonb_array_elements(case when jsonb_typeof(samples.redacted -> 'input' -> 'messages') = 'array'
          then samples.redacted -> 'input' -> 'messages' else '[]'::jsonb end) with ordinality as e(m, n)
        where e.m ->> 'role' = 'user'
        order by e.n desc
        limit 1
      ), ${PREVIEW_CHARS})`.as('inputPreview'),
      sql<string | null>`samples.redacted -> 'output' ->> 'action'`.as('outputAction'),
    ])
    .execute();
  return rows.filter((r) => matches(r, filter));
}

/**
 * One item with its redacted trace, as queueItems lists it, the agent of its queue (whom
 * authorization checks the item against) and the queue's status; undefined for an unknown id.
 */
export async function queueItem(db: Db, itemId: string) {
  return itemRows(db, { itemId })
    .innerJoin('annotation_queues', 'annotation_queues.id', 'annotation_items.queue_id')
    .select([
      sql<unknown>`samples.redacted -> 'input'`.as('input'),
      sql<unknown>`samples.redacted -> 'output'`.as('output'),
      'samples.redactions',
      'annotation_queues.agent_id as agent',
      'annotation_queues.status as queueStatus',
    ])
    .executeTakeFirst();
}

/** The label `reviewer` stored on an item, if any. */
export async function reviewerLabel(db: Db, itemId: string, reviewer: string) {
  return db
    .selectFrom('annotations')
    .select(['verdict', 'category', 'expected', 'comment', 'dimensions', 'scores', 'slices', 'created_at'])
    .where('item_id', '=', itemId)
    .where('reviewer', '=', reviewer)
    .executeTakeFirst();
}

/** Every label of a queue, for agreement statistics. */
export async function queueLabels(db: Db, queueId: string) {
  return db
    .selectFrom('annotations')
    .innerJoin('annotation_items', 'annotation_items.id', 'annotations.item_id')
    .select(['annotations.item_id', 'annotations.reviewer', 'annotations.verdict', 'annotations.scores'])
    .where('annotation_items.queue_id', '=', queueId)
    .orderBy('annotations.item_id')
    .orderBy('annotations.reviewer')
    .execute();
}

/** The queue an item belongs to (null for items queued before queues existed); undefined for an unknown item. */
export async function itemQueueId(db: Db, itemId: string): Promise<string | null | undefined> {
  const item = await db
    .selectFrom('annotation_items')
    .select('queue_id')
    .where('id', '=', itemId)
    .executeTakeFirst();
  return item?.queue_id;
}

/** The ids of a queue's items. */
export async function queueItemIds(db: Db, queueId: string): Promise<string[]> {
  const rows = await db.selectFrom('annotation_items').select('id').where('queue_id', '=', queueId).execute();
  return rows.map((i) => i.id);
}

/** How many of a queue's items are complete. */
export async function completeItemCount(db: Db, queueId: string): Promise<number> {
  const { count } = await db
    .selectFrom('annotation_items')
    .select(sql<number>`count(*) filter (where status = 'complete')::int`.as('count'))
    .where('queue_id', '=', queueId)
    .executeTakeFirstOrThrow();
  return count;
}

/** How many of a queue's items are not complete yet. */
export async function remainingItemCount(db: Db, queueId: string): Promise<number> {
  const { remaining } = await db
    .selectFrom('annotation_items')
    .select(sql<number>`count(*) filter (where status <> 'complete')::int`.as('remaining'))
    .where('queue_id', '=', queueId)
    .executeTakeFirstOrThrow();
  return remaining;
}

/** Every label of a cycle's items with the judge's label beside it, by trace, then label id. */
export async function cycleLabels(db: Db, cycleId: string) {
  return db
    .selectFrom('annotations')
    .innerJoin('annotation_items', 'annotation_items.id', 'annotations.item_id')
    .select([
      'annotations.id',
      'annotation_items.trace_id',
      'annotation_items.judge_label',
      'annotations.verdict',
      'annotations.category',
      'annotations.expected',
      'annotations.comment',
      'annotations.reviewer',
      'annotations.created_at',
    ])
    .where('annotation_items.cycle_id', '=', cycleId)
    .orderBy('annotation_items.trace_id')
    .orderBy('annotations.id')
    .execute();
}

/**
 * The slices reviewers flagged per trace of a cycle: the union over every reviewer's label
 * of the item (a slice describes the input, so one reviewer's flag is enough), in name order.
 */
export async function cycleSliceFlags(db: Db, cycleId: string): Promise<Map<string, string[]>> {
  const { rows } = await sql<{ trace_id: string; slices: string[] }>`
    select i.trace_id, array_agg(distinct s.slice order by s.slice) as slices
    from annotations a
    join annotation_items i on i.id = a.item_id
    cross join lateral unnest(a.slices) as s(slice)
    where i.cycle_id = ${cycleId}
    group by i.trace_id`.execute(db);
  return new Map(rows.map((r) => [r.trace_id, r.slices]));
}

/** One trace's annotation items across cycles, oldest first, each with its reviewers' labels. */
export async function traceAnnotationItems(db: Db, traceId: string) {
  const items = await db
    .selectFrom('annotation_items')
    .select([
      'annotation_items.id',
      'annotation_items.cycle_id',
      'annotation_items.queue_id',
      'annotation_items.cluster_id',
      'annotation_items.judge_label',
      'annotation_items.judge_category',
      'annotation_items.consensus_verdict',
      itemStatus.as('status'),
    ])
    .where('annotation_items.trace_id', '=', traceId)
    .orderBy('annotation_items.created_at')
    .orderBy('annotation_items.id')
    .execute();
  const labels =
    items.length === 0
      ? []
      : await db
          .selectFrom('annotations')
          .select([
            'item_id',
            'reviewer',
            'verdict',
            'category',
            'comment',
            'expected',
            'dimensions',
            'scores',
            'slices',
            'created_at',
          ])
          .where(
            'item_id',
            'in',
            items.map((i) => i.id),
          )
          .orderBy('created_at')
          .orderBy('id')
          .execute();
  return items.map((item) => ({ ...item, labels: labels.filter((l) => l.item_id === item.id) }));
}
