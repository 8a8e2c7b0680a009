import { decisiveVerdicts } from '../evaluation/evaluation-cascade.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import { annotationItemId, annotationQueueId } from '../annotation/store/annotation-queue-repository.js';
import { scoreConfigsFor } from '../annotation/store/score-config-repository.js';
import { Finding } from '../schemas/evaluation.js';
import type { ActivityDeps } from './activity-deps.js';
import { latestLabels } from './cycle-verdicts.js';

export { annotationItemId } from '../annotation/store/annotation-queue-repository.js';

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
    judge_category: deciding?.category ?? null,
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
     * round-robin across clusters, each assigned round-robin to the policy's reviewers.
     * One transaction and conflict-free inserts make a retried attempt a no-op.
     */
    async createAnnotationQueue(args: {
      cycleId: string;
      /** Optional for workflows in flight that were scheduled before queues existed. */
      agent?: string;
      maxItems: number;
      claimSeconds?: number;
    }): Promise<{ items: number; queueId: string }> {
      const agent =
        args.agent ??
        (
          await db
            .selectFrom('cycles')
            .select('agent_id')
            .where('id', '=', args.cycleId)
            .executeTakeFirstOrThrow()
        ).agent_id;
      const config = await agentConfig(db, agent);
      const policy = config.annotation;
      const scoreConfigs = await scoreConfigsFor(db, agent);
      const queueId = annotationQueueId(args.cycleId);
      const requiredReviews =
        policy.reviewers.length > 0
          ? Math.min(policy.reviewersPerItem, policy.reviewers.length)
          : policy.reviewersPerItem;
      return db.transaction().execute(async (tx) => {
        await tx
          .insertInto('annotation_queues')
          .values({
            id: queueId,
            agent_id: agent,
            cycle_id: args.cycleId,
            name: `${agent} review ${args.cycleId}`,
            reviewers_per_item: policy.reviewersPerItem,
            quorum: policy.quorum,
            claim_seconds: args.claimSeconds ?? 3600,
            score_config_ids: scoreConfigs.map((c) => c.id),
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        const members = await tx
          .selectFrom('cluster_members')
          .innerJoin('clusters', 'clusters.id', 'cluster_members.cluster_id')
          .select(['cluster_members.trace_id', 'clusters.id as cluster_id', 'clusters.size'])
          .where('clusters.cycle_id', '=', args.cycleId)
          .orderBy('clusters.size', 'desc')
          .orderBy('clusters.id')
          .orderBy('cluster_members.trace_id')
          .execute();
        const byCluster = new Map<string, typeof members>();
        for (const m of members) byCluster.set(m.cluster_id, [...(byCluster.get(m.cluster_id) ?? []), m]);
        const queues = [...byCluster.values()];
        const picked: typeof members = [];
        for (let round = 0; picked.length < args.maxItems && queues.some((q) => q.length > round); round++) {
          for (const q of queues) {
            const m = q[round];
            if (m && picked.length < args.maxItems) picked.push(m);
          }
        }
        if (picked.length === 0) return { items: 0, queueId };
        const scores = await tx
          .selectFrom('scores')
          .select([
            'trace_id',
            'evaluator',
            'dimension',
            'source',
            'label',
            'value',
            'confidence',
            'category',
            'explanation',
            'findings',
          ])
          .where('cycle_id', '=', args.cycleId)
          .where(
            'trace_id',
            'in',
            picked.map((m) => m.trace_id),
          )
          .orderBy('evaluator')
          .execute();
        const scoresOf = new Map<string, ScoreRow[]>();
        for (const s of scores) scoresOf.set(s.trace_id, [...(scoresOf.get(s.trace_id) ?? []), s]);
        await tx
          .insertInto('annotation_items')
          .values(
            picked.map((m) => ({
              id: annotationItemId(args.cycleId, m.trace_id),
              queue_id: queueId,
              cycle_id: args.cycleId,
              trace_id: m.trace_id,
              cluster_id: m.cluster_id,
              required_reviews: requiredReviews,
              ...reviewContext(scoresOf.get(m.trace_id) ?? [], config.evaluation.cascade.minCodeConfidence),
            })),
          )
          .onConflict((oc) => oc.columns(['cycle_id', 'trace_id']).doNothing())
          .execute();
        const assignments = picked.flatMap((m, i) =>
          roundRobinReviewers(policy.reviewers, policy.reviewersPerItem, i).map((reviewer) => ({
            item_id: annotationItemId(args.cycleId, m.trace_id),
            reviewer,
          })),
        );
        if (assignments.length > 0)
          await tx
            .insertInto('annotation_assignments')
            .values(assignments)
            .onConflict((oc) => oc.columns(['item_id', 'reviewer']).doNothing())
            .execute();
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
      await db
        .updateTable('annotation_queues')
        .set({ status: 'closed' })
        .where('cycle_id', '=', args.cycleId)
        .where('status', '=', 'open')
        .execute();
      const latest = await latestLabels(db, args.cycleId);
      let agree = 0;
      for (const r of latest.values()) {
        if (r.verdict === r.judge_label) agree++;
        await db
          .insertInto('scores')
          .values({
            cycle_id: args.cycleId,
            trace_id: r.trace_id,
            evaluator: 'human',
            dimension: 'task_completion',
            value: r.verdict === 'pass' ? 1 : 0,
            label: r.verdict,
            category: r.category,
            explanation:
              r.comment ??
              (r.reviews > 1
                ? `consensus of ${r.reviews} reviewers${r.disagreement ? ' (they disagreed)' : ''}`
                : `labelled by ${r.reviewer}`),
            source: 'human',
          })
          .onConflict((oc) => oc.columns(['cycle_id', 'trace_id', 'evaluator']).doNothing())
          .execute();
      }
      return { labelled: latest.size, judgeAgreement: latest.size === 0 ? null : agree / latest.size };
    },
  };
}
