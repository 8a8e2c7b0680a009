import type { ActivityDeps } from './activity-deps.js';
import { latestLabels } from './cycle-verdicts.js';

export const annotationItemId = (cycleId: string, traceId: string) => `${cycleId}:item:${traceId}`;

export function createAnnotationActivities({ db }: ActivityDeps) {
  return {
    /** Queues failing traces for review, largest clusters first, round-robin across clusters. */
    async createAnnotationQueue(args: { cycleId: string; maxItems: number }): Promise<{ items: number }> {
      const members = await db
        .selectFrom('cluster_members')
        .innerJoin('clusters', 'clusters.id', 'cluster_members.cluster_id')
        .leftJoin('scores', (j) =>
          j
            .onRef('scores.trace_id', '=', 'cluster_members.trace_id')
            .on('scores.cycle_id', '=', args.cycleId)
            .on('scores.evaluator', '=', 'judge:task_completion'),
        )
        .select([
          'cluster_members.trace_id',
          'clusters.id as cluster_id',
          'clusters.size',
          'scores.label',
          'scores.category',
        ])
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
      if (picked.length > 0) {
        await db
          .insertInto('annotation_items')
          .values(
            picked.map((m) => ({
              id: annotationItemId(args.cycleId, m.trace_id),
              cycle_id: args.cycleId,
              trace_id: m.trace_id,
              cluster_id: m.cluster_id,
              judge_label: m.label ?? 'fail',
              judge_category: m.category,
            })),
          )
          .onConflict((oc) => oc.columns(['cycle_id', 'trace_id']).doNothing())
          .execute();
      }
      return { items: picked.length };
    },

    /**
     * Human labels override judge labels (stored as `human` scores) and measure how often
     * the judge agreed with the reviewers.
     */
    async applyAnnotations(args: {
      cycleId: string;
    }): Promise<{ labelled: number; judgeAgreement: number | null }> {
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
            explanation: r.comment ?? `labelled by ${r.reviewer}`,
            source: 'human',
          })
          .onConflict((oc) => oc.columns(['cycle_id', 'trace_id', 'evaluator']).doNothing())
          .execute();
      }
      return { labelled: latest.size, judgeAgreement: latest.size === 0 ? null : agree / latest.size };
    },
  };
}
