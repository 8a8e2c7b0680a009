import { decisiveVerdicts } from '../evaluation/evaluation-cascade.js';
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
import { Finding } from '../schemas/evaluation.js';
import { displayedCategory } from '../schemas/failure-category.js';
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

type ScoreRow = {
  trace_id: string;
  evaluator: string;
  dimension: string;
  source: 'code' | 'judge' | 'human';
  label: string;
  value: number;
  confidence: number;
  category: string | null;
  explanation: string;
  findings: unknown[];
};

/**
 * What the reviewer sees beside the trace: the judge's task-completion verdict (or the code
 * check that decided it where the cascade skipped the judge) and the earliest step a
 * failing evaluator pointed at.
 */
function reviewContext(rows: ScoreRow[], minCodeConfidence: number) {
  const judge = rows.find((r) => r.evaluator === 'judge:task_completion');
  const decided = decisiveVerdicts(
    rows.map((r) => ({ ...r, score: r.value })),
    minCodeConfidence,
  ).get('task_completion');
  const deciding = judge ?? (decided ? rows.find((r) => r.evaluator === decided.evaluator) : undefined);
  let failing: { step: number | null; text: string } | undefined;
  for (const r of rows.filter((x) => x.label === 'fail')) {
    for (const raw of r.findings) {
      const f = Finding.safeParse(raw);
      if (!f.success) continue;
      const candidate = { step: f.data.step, text: `${r.evaluator}: ${f.data.kind} — ${f.data.detail}` };
      if (!failing || (candidate.step !== null && (failing.step === null || candidate.step < failing.step)))
        failing = candidate;
    }
  }
  return {
    judge_label: deciding?.label ?? 'fail',
    // A code check names its finding kind (`wrong_tool`); reviewers see and send the category.
    judge_category: displayedCategory(deciding?.category) ?? null,
    judge_explanation: deciding?.explanation ?? null,
    verdict_source: deciding?.source ?? null,
    failing_step: failing?.step ?? null,
    failing_finding: failing?.text ?? null,
  };
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
        const scoresOf = new Map<string, ScoreRow[]>();
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
      for (const r of latest.values()) {
        if (r.verdict === r.judge_label) agree++;
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
      return { labelled: latest.size, judgeAgreement: latest.size === 0 ? null : agree / latest.size };
    },
  };
}
