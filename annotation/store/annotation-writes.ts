import { sql, type Transaction } from 'kysely';
import { consensus } from '../annotation-consensus.js';
import { checkScoreValues } from '../../evaluation/score-values.js';
import { agentConfig } from '../../registry/store/agent-repository.js';
import { cycleStage } from '../../cycles/store/cycle-repository.js';
import type { Db } from '../../db/connection.js';
import type {
  Database,
  NewAnnotationAssignment,
  NewAnnotationItem,
  NewAnnotationQueue,
} from '../../db/database.js';
import { scoreConfigsByIds } from './score-config-repository.js';
import { expectedStepProblem } from '../expected-step-check.js';
import { notAReviewer } from '../reviewer-policy.js';
import type { AnnotationBody } from '../../schemas/annotation.js';
import { ConflictError, ForbiddenError, NotFoundError, UserError } from '../../schemas/user-error.js';

/**
 * Every write to the annotation tables (annotation_queues, annotation_items, annotations,
 * annotation_claims, annotation_assignments) happens in this file, so its guarantees are
 * kept in one place:
 * - Lock order is queue, then item, everywhere: a writer that needs both locks the queue
 *   row first, so no two writers wait on each other in a circle. Writes that touch one
 *   table family only (opening a queue and adding its items in one transaction, closing a
 *   queue, claiming its quorum notice) take the queue before any item as well.
 * - Clocks are the database's (`now()`), so every API replica agrees when a claim expires.
 * - Opening a queue is conflict-free inserts: a retried activity writes nothing twice.
 * Nothing here talks to Temporal: telling a workflow is the service's job, after commit.
 */

type Tx = Transaction<Database>;

/** Stages before the queue opens for reviewers (the queue is built while diagnosing). */
export const BEFORE_ANNOTATION: ReadonlySet<string> = new Set([
  'starting',
  'sampling',
  'scoring',
  'diagnosing',
]);

/**
 * Loads an item, its queue and its cycle's stage for a write, locking the rows so that
 * concurrent claims and labels on the same item (or the same queue) take turns. Every
 * check that does not depend on the reviewer's own claim happens here. With `relabel`, a
 * reviewer who labelled the item already may write to it even when it is complete: they
 * change their own label, which takes no new review slot.
 */
async function lockForWrite(
  tx: Tx,
  itemId: string,
  reviewer: string,
  options: { lockQueue: boolean; relabel: boolean },
) {
  const found = await tx
    .selectFrom('annotation_items')
    .select(['queue_id', 'cycle_id'])
    .where('id', '=', itemId)
    .executeTakeFirst();
  if (!found)
    throw new NotFoundError(
      `Unknown annotation item ${itemId}. List a queue's items with: flywheel queue show <cycleId>. Nothing was stored.`,
    );
  if (!found.queue_id)
    throw new ConflictError(
      `Item ${itemId} was queued before annotation queues existed; it cannot be claimed.`,
    );
  // Queue, then item: the lock order written at the top of this file.
  let queueQuery = tx.selectFrom('annotation_queues').selectAll().where('id', '=', found.queue_id);
  if (options.lockQueue) queueQuery = queueQuery.forUpdate();
  const queue = await queueQuery.executeTakeFirstOrThrow();
  const item = await tx
    .selectFrom('annotation_items')
    .selectAll()
    .where('id', '=', itemId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const stage = await cycleStage(tx, queue.cycle_id);
  if (queue.status === 'complete')
    throw new ConflictError(
      `Queue ${queue.id} is complete (quorum reached at ${queue.completed_at?.toISOString()}); it takes no more labels. Nothing was stored.`,
    );
  if (queue.status === 'closed' || (stage !== 'awaiting_annotation' && !BEFORE_ANNOTATION.has(stage)))
    throw new ConflictError(
      `Cycle ${queue.cycle_id} is not waiting for annotation (stage: ${stage}); queue ${queue.id} is closed. Nothing was stored.`,
    );
  if (stage !== 'awaiting_annotation')
    throw new ConflictError(
      `Cycle ${queue.cycle_id} is still preparing its queue (stage: ${stage}); try again in a moment. Nothing was stored.`,
    );
  const config = await agentConfig(tx, queue.agent_id);
  const refused = notAReviewer(config.annotation.reviewers, reviewer, queue.agent_id);
  if (refused) throw new ForbiddenError(`${refused} Nothing was stored.`);
  const labelled =
    options.relabel &&
    (await tx
      .selectFrom('annotations')
      .select('id')
      .where('item_id', '=', itemId)
      .where('reviewer', '=', reviewer)
      .executeTakeFirst()) !== undefined;
  if (item.status === 'complete' && !labelled)
    throw new ConflictError(
      `Item ${itemId} is already complete (${item.required_reviews} review(s)); pick another one with: flywheel queue show ${queue.cycle_id}. Nothing was stored.`,
    );
  return { queue, item, tools: config.tools, labelled };
}

/** Refuses a claim when other reviewers' labels and live claims fill every review slot. */
async function assertSlotFree(tx: Tx, itemId: string, reviewer: string, required: number): Promise<void> {
  const others = await tx
    .selectFrom('annotations')
    .select(['reviewer', sql<Date | null>`null`.as('expires_at')])
    .where('item_id', '=', itemId)
    .where('reviewer', '!=', reviewer)
    .unionAll(
      tx
        .selectFrom('annotation_claims')
        .select(['reviewer', 'expires_at'])
        .where('item_id', '=', itemId)
        .where('reviewer', '!=', reviewer)
        .where('expires_at', '>', sql<Date>`now()`),
    )
    .execute();
  const holders = new Map<string, Date | null>();
  for (const o of others)
    if (!holders.has(o.reviewer) || o.expires_at === null) holders.set(o.reviewer, o.expires_at);
  if (holders.size >= required) {
    const who = [...holders]
      .map(([r, until]) =>
        until ? `claimed by ${r} until ${new Date(until).toISOString()}` : `labelled by ${r}`,
      )
      .join(', ');
    throw new ConflictError(
      `Every review slot of item ${itemId} is taken (${who}); claim another item. Nothing was stored.`,
    );
  }
}

export interface ClaimResult {
  itemId: string;
  reviewer: string;
  claimedAt: Date;
  expiresAt: Date;
}

/**
 * Holds one of the item's review slots for the queue's claim length, measured on the
 * database clock so every API replica agrees when it expires. Claiming again extends it.
 */
export async function claimItem(tx: Tx, itemId: string, reviewer: string): Promise<ClaimResult> {
  const { queue, item } = await lockForWrite(tx, itemId, reviewer, { lockQueue: false, relabel: false });
  await assertSlotFree(tx, itemId, reviewer, item.required_reviews);
  const expires = sql<Date>`now() + make_interval(secs => ${queue.claim_seconds})`;
  const row = await tx
    .insertInto('annotation_claims')
    .values({ item_id: itemId, reviewer, claimed_at: sql<Date>`now()`, expires_at: expires })
    .onConflict((oc) =>
      oc.columns(['item_id', 'reviewer']).doUpdateSet({ claimed_at: sql<Date>`now()`, expires_at: expires }),
    )
    .returning(['claimed_at', 'expires_at'])
    .executeTakeFirstOrThrow();
  await tx.updateTable('annotation_items').set({ status: 'in_progress' }).where('id', '=', itemId).execute();
  return { itemId, reviewer, claimedAt: row.claimed_at, expiresAt: row.expires_at };
}

/** Gives a live claim back so another reviewer can take the slot. */
export async function releaseItem(tx: Tx, itemId: string, reviewer: string): Promise<{ released: true }> {
  await lockForWrite(tx, itemId, reviewer, { lockQueue: false, relabel: false });
  const deleted = await tx
    .deleteFrom('annotation_claims')
    .where('item_id', '=', itemId)
    .where('reviewer', '=', reviewer)
    .where('expires_at', '>', sql<Date>`now()`)
    .returning('item_id')
    .executeTakeFirst();
  if (!deleted)
    throw new ConflictError(`${reviewer} holds no live claim on item ${itemId}; nothing to release.`);
  return { released: true };
}

export interface StoredAnnotation {
  itemId: string;
  annotationId: string;
  queueId: string;
  cycleId: string;
  reviews: number;
  requiredReviews: number;
  itemComplete: boolean;
  /** This label brought the queue to its quorum: the caller tells the workflow after commit. */
  queueCompleted: boolean;
}

/**
 * Stores one reviewer's label on an item they hold a live claim on (or, with `autoClaim`,
 * on an item with a free slot, as a batch does), or replaces the label they stored on it
 * before while the queue is open: the cycle reads labels only once the queue is complete or
 * closed, and both happen under the queue's row lock taken here, so a change never races
 * that read. An expected tool call must fit the agent's tools (expected-step-check.ts).
 * Recomputes the item's consensus and, under the queue's row lock, completes the queue once
 * the share of complete items reaches its quorum. Any failed check throws before anything
 * is written.
 */
export async function storeAnnotation(
  tx: Tx,
  itemId: string,
  reviewer: string,
  body: AnnotationBody,
  options: { autoClaim: boolean },
): Promise<StoredAnnotation> {
  const { queue, item, tools, labelled } = await lockForWrite(tx, itemId, reviewer, {
    lockQueue: true,
    relabel: true,
  });
  const step = expectedStepProblem(tools, body.expected);
  if (step)
    throw new UserError(`Item ${itemId}: ${step.message}. Nothing was stored.`, 'invalid_input', step.field);
  const claim = await tx
    .selectFrom('annotation_claims')
    .select(['expires_at', sql<boolean>`expires_at > now()`.as('live')])
    .where('item_id', '=', itemId)
    .where('reviewer', '=', reviewer)
    .executeTakeFirst();
  // A reviewer changing their own label holds its slot by that label, not by a claim.
  if (!claim?.live && !labelled) {
    if (!options.autoClaim)
      throw new ConflictError(
        claim
          ? `${reviewer}'s claim on item ${itemId} expired at ${claim.expires_at.toISOString()}; claim it again (flywheel queue claim ${itemId} --reviewer ${reviewer}). Nothing was stored.`
          : `${reviewer} has not claimed item ${itemId}; claim it first (flywheel queue claim ${itemId} --reviewer ${reviewer}). Nothing was stored.`,
      );
    await assertSlotFree(tx, itemId, reviewer, item.required_reviews);
  }
  const configs = (await scoreConfigsByIds(tx, queue.score_config_ids)).filter((c) => !c.isArchived);
  const checked = checkScoreValues(configs, body.scores ?? {});
  if (checked.errors.length > 0)
    throw new UserError(
      `Invalid scores for item ${itemId}: ${checked.errors.join('; ')}. Nothing was stored.`,
    );
  const values = {
    verdict: body.verdict,
    category: body.category ?? null,
    expected: body.expected ? JSON.stringify(body.expected) : null,
    comment: body.comment ?? null,
    dimensions: JSON.stringify(body.dimensions ?? {}),
    scores: JSON.stringify(checked.values),
    slices: body.slices ?? [],
  };
  const stored = await tx
    .insertInto('annotations')
    .values({ item_id: itemId, reviewer, ...values })
    .onConflict((oc) =>
      oc.columns(['item_id', 'reviewer']).doUpdateSet({ ...values, created_at: sql<Date>`now()` }),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  await tx
    .deleteFrom('annotation_claims')
    .where('item_id', '=', itemId)
    .where('reviewer', '=', reviewer)
    .execute();
  const labels = await tx
    .selectFrom('annotations')
    .select(['id', 'verdict', 'created_at', sql<boolean>`expected is not null`.as('has_expected')])
    .where('item_id', '=', itemId)
    .execute();
  const decided = consensus(
    labels.map((l) => ({
      id: l.id,
      verdict: l.verdict,
      createdAt: l.created_at,
      hasExpected: l.has_expected,
    })),
  )!;
  const itemComplete = labels.length >= item.required_reviews;
  await tx
    .updateTable('annotation_items')
    .set({
      status: itemComplete ? 'complete' : 'in_progress',
      completed_at: itemComplete ? sql<Date>`coalesce(completed_at, now())` : null,
      consensus_verdict: decided.verdict,
      disagreement: decided.disagreement,
    })
    .where('id', '=', itemId)
    .execute();
  const { total, complete } = await tx
    .selectFrom('annotation_items')
    .select([
      sql<number>`count(*)::int`.as('total'),
      sql<number>`count(*) filter (where status = 'complete')::int`.as('complete'),
    ])
    .where('queue_id', '=', queue.id)
    .executeTakeFirstOrThrow();
  const queueCompleted = total > 0 && complete / total >= queue.quorum;
  if (queueCompleted)
    await tx
      .updateTable('annotation_queues')
      .set({ status: 'complete', completed_at: sql<Date>`now()` })
      .where('id', '=', queue.id)
      .execute();
  return {
    itemId,
    annotationId: stored.id,
    queueId: queue.id,
    cycleId: queue.cycle_id,
    reviews: labels.length,
    requiredReviews: item.required_reviews,
    itemComplete,
    queueCompleted,
  };
}

/** Creates a cycle's queue; a queue with the same id is kept as it is. */
export async function openQueue(tx: Db, queue: NewAnnotationQueue): Promise<void> {
  await tx
    .insertInto('annotation_queues')
    .values(queue)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** Adds items to a queue; an item already queued for the same cycle and trace is kept. */
export async function addQueueItems(tx: Db, items: NewAnnotationItem[]): Promise<void> {
  await tx
    .insertInto('annotation_items')
    .values(items)
    .onConflict((oc) => oc.columns(['cycle_id', 'trace_id']).doNothing())
    .execute();
}

/**
 * Locks a queue row for adding items to it (queue first, as everywhere), with its cycle's
 * stage; undefined for an unknown queue.
 */
export async function lockQueueForItems(tx: Tx, queueIdOrCycleId: string) {
  const queue = await tx
    .selectFrom('annotation_queues')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', queueIdOrCycleId), eb('cycle_id', '=', queueIdOrCycleId)]))
    .forUpdate()
    .executeTakeFirst();
  if (!queue) return undefined;
  return { queue, stage: await cycleStage(tx, queue.cycle_id) };
}

/** The item a queue's cycle already holds for a trace, if any (one item per cycle and trace). */
export async function cycleItemOfTrace(tx: Tx, cycleId: string, traceId: string) {
  return tx
    .selectFrom('annotation_items')
    .select(['id', 'queue_id'])
    .where('cycle_id', '=', cycleId)
    .where('trace_id', '=', traceId)
    .executeTakeFirst();
}

/** Assigns reviewers to items; an assignment already there is kept. */
export async function assignReviewers(tx: Db, assignments: NewAnnotationAssignment[]): Promise<void> {
  await tx
    .insertInto('annotation_assignments')
    .values(assignments)
    .onConflict((oc) => oc.columns(['item_id', 'reviewer']).doNothing())
    .execute();
}

/** Stops a cycle's queue from taking labels if it is still open (it never reached quorum). */
export async function closeOpenQueue(db: Db, cycleId: string): Promise<void> {
  await db
    .updateTable('annotation_queues')
    .set({ status: 'closed' })
    .where('cycle_id', '=', cycleId)
    .where('status', '=', 'open')
    .execute();
}

/**
 * Claims the right to tell the cycle workflow that the queue reached quorum: succeeds for
 * one caller only, while the queue is complete and nobody has told the workflow yet.
 * Returns the queue's cycle id, or undefined when the notice is not due or already claimed.
 */
export async function claimQuorumNotice(db: Db, queueId: string): Promise<string | undefined> {
  const claimed = await db
    .updateTable('annotation_queues')
    .set({ notified_at: sql<Date>`now()` })
    .where('id', '=', queueId)
    .where('status', '=', 'complete')
    .where('notified_at', 'is', null)
    .returning('cycle_id')
    .executeTakeFirst();
  return claimed?.cycle_id;
}

/** Gives a claimed quorum notice back (telling the workflow failed) for the next caller. */
export async function releaseQuorumNotice(db: Db, queueId: string): Promise<void> {
  await db.updateTable('annotation_queues').set({ notified_at: null }).where('id', '=', queueId).execute();
}
