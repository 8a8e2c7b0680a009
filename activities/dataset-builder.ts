import { sql } from 'kysely';
import { assignSplit } from '../core/dataset-split.js';
import { AgentAction } from '../schemas/trace.js';
import type { ActivityDeps } from './activity-deps.js';
import { latestLabels } from './cycle-verdicts.js';

export const exampleId = (datasetVersionId: string, traceId: string) => `${datasetVersionId}:${traceId}`;

export function createDatasetActivities({ db }: ActivityDeps) {
  return {
    /**
     * Promotes this cycle's labelled traces into a new dataset version, carrying forward
     * the previous version's examples. The expectation comes from a reviewer when there is
     * one (a human `pass` confirms the agent's own step), else from the trace. Splits are a
     * hash of the trace id, so a trace never moves from train to eval between versions.
     */
    async buildDatasetVersion(args: { cycleId: string; agent: string; seed: number }): Promise<{
      datasetVersionId: string;
      version: number;
      train: number;
      eval: number;
      fromThisCycle: number;
    }> {
      return db.transaction().execute(async (tx) => {
        const existing = await tx
          .selectFrom('dataset_versions')
          .selectAll()
          .where('cycle_id', '=', args.cycleId)
          .executeTakeFirst();
        if (!existing)
          await sql`select pg_advisory_xact_lock(hashtext(${'dataset:' + args.agent}))`.execute(tx);
        const previous = await tx
          .selectFrom('dataset_versions')
          .selectAll()
          .where('agent_id', '=', args.agent)
          .where('cycle_id', '!=', args.cycleId)
          .orderBy('version', 'desc')
          .executeTakeFirst();
        const version = existing?.version ?? (previous?.version ?? 0) + 1;
        const datasetVersionId = existing?.id ?? `${args.agent}-dataset-v${version}`;
        if (!existing) {
          await tx
            .insertInto('dataset_versions')
            .values({ id: datasetVersionId, agent_id: args.agent, version, cycle_id: args.cycleId })
            .execute();
        }
        const sampled = await tx
          .selectFrom('samples')
          .leftJoin('cluster_members', (j) =>
            j
              .onRef('cluster_members.trace_id', '=', 'samples.trace_id')
              .on('cluster_members.cluster_id', 'like', `${args.cycleId}:%`),
          )
          .leftJoin('clusters', 'clusters.id', 'cluster_members.cluster_id')
          .select([
            'samples.trace_id as id',
            sql<unknown>`samples.redacted -> 'input'`.as('input'),
            sql<unknown>`samples.redacted -> 'output'`.as('output'),
            sql<unknown>`samples.redacted -> 'expected'`.as('expected'),
            'cluster_members.cluster_id',
            'clusters.intervention',
          ])
          .where('samples.cycle_id', '=', args.cycleId)
          .execute();
        const latestLabel = await latestLabels(tx, args.cycleId);
        const fresh = [];
        for (const t of sampled) {
          // Failures a prompt cannot fix (tool, context, fine-tune, RL, or undiagnosed) are
          // recommendations in the report, not optimizer data.
          if (t.cluster_id !== null && t.intervention !== 'prompt') continue;
          const label = latestLabel.get(t.id);
          let expected: unknown = t.expected;
          if (label?.expected) expected = label.expected;
          else if (label?.verdict === 'pass') expected = t.output;
          const parsed = AgentAction.safeParse(expected);
          if (!parsed.success) continue;
          fresh.push({
            id: exampleId(datasetVersionId, t.id),
            dataset_version_id: datasetVersionId,
            trace_id: t.id,
            cluster_id: t.cluster_id,
            annotation_id: label?.id ?? null,
            split: assignSplit(t.id, args.seed),
            input: JSON.stringify(t.input),
            expected: JSON.stringify(parsed.data),
          });
        }
        const freshTraces = new Set(fresh.map((f) => f.trace_id));
        const carried = previous
          ? (
              await tx
                .selectFrom('dataset_examples')
                .selectAll()
                .where('dataset_version_id', '=', previous.id)
                .execute()
            )
              .filter((e) => !freshTraces.has(e.trace_id))
              .map((e) => ({
                ...e,
                id: exampleId(datasetVersionId, e.trace_id),
                dataset_version_id: datasetVersionId,
                input: JSON.stringify(e.input),
                expected: JSON.stringify(e.expected),
              }))
          : [];
        const all = [...fresh, ...carried];
        for (let i = 0; i < all.length; i += 500) {
          await tx
            .insertInto('dataset_examples')
            .values(all.slice(i, i + 500))
            .onConflict((oc) => oc.column('id').doNothing())
            .execute();
        }
        const counts = await tx
          .selectFrom('dataset_examples')
          .select(['split', sql<number>`count(*)::int`.as('n')])
          .where('dataset_version_id', '=', datasetVersionId)
          .groupBy('split')
          .execute();
        const n = (s: string) => counts.find((c) => c.split === s)?.n ?? 0;
        return { datasetVersionId, version, train: n('train'), eval: n('eval'), fromThisCycle: fresh.length };
      });
    },
  };
}
