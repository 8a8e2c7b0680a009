import type { ActivityDeps } from './activity-deps.js';
import { traceVerdicts } from './cycle-verdicts.js';

export const clusterId = (cycleId: string, category: string) => `${cycleId}:${category}`;

export function createDiagnoseActivities({ db }: ActivityDeps) {
  return {
    /**
     * Failing traces (the code verdict where there is an expectation, else the judge's)
     * grouped by the judge's failure category and stored as clusters with their members.
     */
    async diagnoseFailures(args: {
      cycleId: string;
    }): Promise<{ clusters: { id: string; category: string; size: number }[] }> {
      const verdicts = await traceVerdicts(db, args.cycleId);
      const groups = new Map<string, string[]>();
      for (const [traceId, v] of verdicts) {
        if (!v.failing) continue;
        // The code check caught what the judge passed: keep it visible as its own group.
        const category = v.judge === 'fail' ? (v.judgeCategory ?? 'other') : 'missed_by_judge';
        groups.set(category, [...(groups.get(category) ?? []), traceId]);
      }
      const clusters = [...groups.entries()]
        .map(([category, members]) => ({
          id: clusterId(args.cycleId, category),
          category,
          size: members.length,
          members,
        }))
        .sort((a, b) => b.size - a.size || a.category.localeCompare(b.category));
      await db.transaction().execute(async (tx) => {
        for (const c of clusters) {
          await tx
            .insertInto('clusters')
            .values({ id: c.id, cycle_id: args.cycleId, category: c.category, size: c.size })
            .onConflict((oc) => oc.column('id').doUpdateSet({ size: c.size }))
            .execute();
          await tx
            .insertInto('cluster_members')
            .values(c.members.map((t) => ({ cluster_id: c.id, trace_id: t })))
            .onConflict((oc) => oc.columns(['cluster_id', 'trace_id']).doNothing())
            .execute();
        }
      });
      return { clusters: clusters.map(({ id, category, size }) => ({ id, category, size })) };
    },
  };
}
