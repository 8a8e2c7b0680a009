import { agentConfig } from '../registry/store/agent-repository.js';
import { annotationItemId, annotationQueueId } from '../annotation/annotation-ids.js';
import { scoreConfigsFor } from '../annotation/store/score-config-repository.js';
import {
  addQueueItems,
  assignReviewers,
  closeOpenQueue,
  openQueue,
} from '../annotation/store/annotation-writes.js';
import { cycleAgent } from '../cycles/store/cycle-repository.js';
import { clusterMembersBySize } from '../diagnosis/store/cluster-repository.js';
import { insertHumanScore, judgePassedTraces, reviewScores } from '../evaluation/store/score-repository.js';
import { NOT_SCORED, reviewContext, type ReviewScoreRow } from '../annotation/review-context.js';
import type { ActivityDeps } from './activity-deps.js';
import { latestLabels } from './cycle-verdicts.js';

export { annotationItemId } from '../annotation/annotation-ids.js';

/**
 * Reviewers for item `index`: `perItem` distinct names, each item starting where the
 * previous one stopped, so the load spreads evenly over the list.
 */
export function roundRobinReviewers(reviewers: readonly string[], perItem: number, index: number): string[] {
  const n = reviewers.length;
  const k = Math.min(perItem, n);
  return Array.from({ length: k }, (_, j) => reviewers[(index * k + j) % n]!);
}

export function createAnnotationActivities({ db }: ActivityDeps) {
  return {
    /**
     * Opens the cycle's annotation queue: failing traces, largest clusters first,
     * round-robin across clusters, then traces the judge passed in the policy's calibration
     * share (and in any slots failures leave empty); each item is assigned round-robin to
     * the policy's reviewers.
     * One transaction and conflict-free inserts make a retried attempt a no-op.
     */
    async createAnnotationQueue(args: {
      cycleId: string;
      /** Optional for workflows in flight that were scheduled before queues existed. */
      agent?: string;
      maxItems: number;
      claimSeconds?: number;
    }): Promise<{ items: number; queueId: string }> {
      const agent = args.agent ?? (await cycleAgent(db, args.cycleId));
      const config = await agentConfig(db, agent);
      const policy = config.annotation;
      const scoreConfigs = await scoreConfigsFor(db, agent);
      const queueId = annotationQueueId(args.cycleId);
      const requiredReviews =
        policy.reviewers.length > 0
          ? Math.min(policy.reviewersPerItem, policy.reviewers.length)
          : policy.reviewersPerItem;
      return db.transaction().execute(async (tx) => {
        await openQueue(tx, {
          id: queueId,
          agent_id: agent,
          cycle_id: args.cycleId,
          name: `${agent} review ${args.cycleId}`,
          reviewers_per_item: policy.reviewersPerItem,
          quorum: policy.quorum,
          claim_seconds: args.claimSeconds ?? 3600,
          score_config_ids: scoreConfigs.map((c) => c.id),
        });
        const members = await clusterMembersBySize(tx, args.cycleId);
        const byCluster = new Map<string, typeof members>();
        for (const m of members) byCluster.set(m.cluster_id, [...(byCluster.get(m.cluster_id) ?? []), m]);
        const queues = [...byCluster.values()];
        const calibrationSlots = Math.round(args.maxItems * policy.calibrationShare);
        const failureSlots = args.maxItems - calibrationSlots;
        const picked: { trace_id: string; cluster_id: string | null }[] = [];
        for (let round = 0; picked.length < failureSlots && queues.some((q) => q.length > round); round++) {
          for (const q of queues) {
            const m = q[round];
            if (m && picked.length < failureSlots) picked.push(m);
          }
        }
        // Traces the judge passed fill the calibration slots and any failure slots left empty;
        // a cycle with no failures to review opens no queue.
        if (picked.length === 0) return { items: 0, queueId };
        const inQueue = new Set(picked.map((m) => m.trace_id));
        const passed = await judgePassedTraces(tx, args.cycleId, args.maxItems);
        for (const traceId of passed) {
          if (picked.length >= args.maxItems) break;
          if (!inQueue.has(traceId)) picked.push({ trace_id: traceId, cluster_id: null });
        }
        const scores = await reviewScores(
          tx,
          args.cycleId,
          picked.map((m) => m.trace_id),
        );
        const scoresOf = new Map<string, ReviewScoreRow[]>();
        for (const s of scores) scoresOf.set(s.trace_id, [...(scoresOf.get(s.trace_id) ?? []), s]);
        await addQueueItems(
          tx,
          picked.map((m) => ({
            id: annotationItemId(args.cycleId, m.trace_id),
            queue_id: queueId,
            cycle_id: args.cycleId,
            trace_id: m.trace_id,
            cluster_id: m.cluster_id,
            required_reviews: requiredReviews,
            ...reviewContext(scoresOf.get(m.trace_id) ?? [], config.evaluation.cascade.minCodeConfidence),
          })),
        );
        const assignments = picked.flatMap((m, i) =>
          roundRobinReviewers(policy.reviewers, policy.reviewersPerItem, i).map((reviewer) => ({
            item_id: annotationItemId(args.cycleId, m.trace_id),
            reviewer,
          })),
        );
        if (assignments.length > 0) await assignReviewers(tx, assignments);
        return { items: picked.length, queueId };
      });
    },

    /**
     * Human labels override judge labels (stored as `human` scores: each item's consensus)
     * and measure how often the judge agreed with the reviewers. The queue stops taking
     * labels: if it never reached its quorum it is closed.
     */
    async applyAnnotations(args: {
      cycleId: string;
    }): Promise<{ labelled: number; judgeAgreement: number | null }> {
      await closeOpenQueue(db, args.cycleId);
      const latest = await latestLabels(db, args.cycleId);
      let agree = 0;
      let judged = 0;
      for (const r of latest.values()) {
        // An item added by hand from a trace the cycle never scored has no judge verdict to agree with.
        if (r.judge_label !== NOT_SCORED) {
          judged++;
          if (r.verdict === r.judge_label) agree++;
        }
        await insertHumanScore(db, {
          cycleId: args.cycleId,
          traceId: r.trace_id,
          verdict: r.verdict,
          category: r.category,
          explanation:
            r.comment ??
            (r.reviews > 1
              ? `consensus of ${r.reviews} reviewers${r.disagreement ? ' (they disagreed)' : ''}`
              : `labelled by ${r.reviewer}`),
        });
      }
      return { labelled: latest.size, judgeAgreement: judged === 0 ? null : agree / judged };
    },
  };
}
