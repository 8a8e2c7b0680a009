import { sql } from 'kysely';
import { activeDatasetVersion } from '../registry/store/artifact-repository.js';
import { deriveSlices } from '../datasets/example-slices.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import {
  carriedExamples,
  datasetIdOf,
  ensureDataset,
  lockDataset,
  summarize,
  writeVersion,
  type DraftExample,
} from '../datasets/store/dataset-version-writer.js';
import { AgentAction } from '../schemas/trace.js';
import type { ActivityDeps } from './activity-deps.js';
import { latestLabels } from './cycle-verdicts.js';

export { exampleIdOf as exampleId } from '../datasets/store/dataset-version-writer.js';

export interface BuiltDatasetVersion {
  datasetVersionId: string;
  version: number;
  train: number;
  eval: number;
  holdout: number;
  /** Examples this cycle promoted (new, or relabelled versions of carried ones). */
  fromThisCycle: number;
  decontamination: { movedFromGating: number; nearDuplicates: number };
}

/** Reviewer flags, whatever the annotation schema calls them (the queue may add a column). */
function reviewerFlags(row: unknown): unknown {
  const r = (row ?? {}) as Record<string, unknown>;
  return [r.flags, r.tags, r.slices].flatMap((v): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []));
}

export function createDatasetActivities({ db }: ActivityDeps) {
  return {
    /**
     * Promotes this cycle's labelled traces into a new published version of the agent's
     * default dataset, copy-on-write from the newest version. The expectation comes from a
     * reviewer when there is one (a human `pass` confirms the agent's own step), else from
     * the trace. Idempotent: a retry finds the version this cycle already published (the
     * whole build is one transaction, so there is no half-written version to find).
     */
    async buildDatasetVersion(args: {
      cycleId: string;
      agent: string;
      seed: number;
    }): Promise<BuiltDatasetVersion> {
      const policy = (await agentConfig(db, args.agent)).dataset;
      return db.transaction().execute(async (tx) => {
        const dataset = await ensureDataset(tx, { agent: args.agent, seed: args.seed });
        await lockDataset(tx, dataset.id);
        const existing = await tx
          .selectFrom('dataset_versions')
          .select('id')
          .where('dataset_id', '=', datasetIdOf(args.agent, args.agent))
          .where('cycle_id', '=', args.cycleId)
          .executeTakeFirst();
        if (existing) {
          const summary = await summarize(tx, existing.id);
          const fresh = await tx
            .selectFrom('dataset_examples')
            .select(sql<number>`count(*)::int`.as('n'))
            .where('dataset_version_id', '=', existing.id)
            .where('cycle_id', '=', args.cycleId)
            .executeTakeFirstOrThrow();
          return { ...summary, fromThisCycle: fresh.n };
        }
        // The agent's active version: the newest, unless an operator rolled the dataset back
        // (`flywheel rollback dataset`), in which case the cycle builds on the chosen one.
        const parent = await activeDatasetVersion(tx, args.agent, { excludingCycle: args.cycleId });

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
            sql<unknown>`samples.redacted -> 'attributes'`.as('attributes'),
            'cluster_members.cluster_id',
            'clusters.stable_id',
            'clusters.category',
            'clusters.intervention',
          ])
          .where('samples.cycle_id', '=', args.cycleId)
          .orderBy('samples.trace_id')
          .execute();
        const labels = await latestLabels(tx, args.cycleId);
        const labelIds = [...labels.values()].map((l) => l.id);
        const flagRows =
          labelIds.length === 0
            ? []
            : await tx
                .selectFrom('annotations')
                .select(['id', sql<unknown>`to_jsonb(annotations)`.as('row')])
                .where('id', 'in', labelIds)
                .execute();
        const flags = new Map(flagRows.map((r) => [String(r.id), reviewerFlags(r.row)]));

        const fresh: DraftExample[] = [];
        for (const t of sampled) {
          // Failures a prompt cannot fix (tool, context, fine-tune, RL, or undiagnosed) are
          // recommendations in the report, not optimizer data.
          if (t.cluster_id !== null && t.intervention !== 'prompt') continue;
          const label = labels.get(t.id);
          let expected: unknown = t.expected;
          if (label?.expected) expected = label.expected;
          else if (label?.verdict === 'pass') expected = t.output;
          const parsed = AgentAction.safeParse(expected);
          if (!parsed.success) continue;
          fresh.push({
            key: t.id,
            traceId: t.id,
            clusterId: t.cluster_id,
            clusterStableId: t.stable_id,
            annotationId: label ? String(label.id) : null,
            cycleId: args.cycleId,
            input: t.input,
            expected: parsed.data,
            slices: deriveSlices({
              attributes: t.attributes,
              clusterCategory: t.category,
              reviewerFlags: label ? flags.get(String(label.id)) : undefined,
            }),
            source: 'cycle',
            createdBy: label?.reviewer ?? 'flywheel',
            createdAt: null,
            originVersionId: null,
            gatingExcluded: null,
            requestedSplit: null,
          });
        }
        const freshKeys = new Set(fresh.map((f) => f.key));
        const carried = parent
          ? (await carriedExamples(tx, parent.id)).filter((e) => !freshKeys.has(e.key))
          : [];
        const summary = await writeVersion(tx, {
          dataset,
          parentVersionId: parent?.id ?? null,
          cycleId: args.cycleId,
          createdBy: 'flywheel',
          note: `promoted ${fresh.length} labelled trace(s) of ${args.cycleId}`,
          examples: [...carried, ...fresh],
          retirements: [],
          policy,
        });
        return { ...summary, fromThisCycle: fresh.length };
      });
    },
  };
}
