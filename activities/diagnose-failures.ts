import type { ActivityDeps } from './activity-deps.js';

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
      const scores = await db
        .selectFrom('scores')
        .select(['trace_id', 'source', 'label', 'category'])
        .where('cycle_id', '=', args.cycleId)
        .where('source', 'in', ['code', 'judge'])
        .execute();
      const byTrace = new Map<string, { code?: string; judge?: string; category?: string | null }>();
      for (const s of scores) {
        const e = byTrace.get(s.trace_id) ?? {};
        if (s.source === 'code') e.code = s.label;
        else {
          e.judge = s.label;
          e.category = s.category;
        }
        byTrace.set(s.trace_id, e);
      }
      const groups = new Map<string, string[]>();
      for (const [traceId, e] of [...byTrace.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        if ((e.code ?? e.judge) !== 'fail') continue;
        // The code check caught what the judge passed: keep it visible as its own group.
        const category = e.judge === 'fail' ? (e.category ?? 'other') : 'missed_by_judge';
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
