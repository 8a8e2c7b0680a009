import { activeDatasetVersion } from '../registry/store/artifact-repository.js';
import { deriveSlices } from '../datasets/example-slices.js';
import { activityAgentConfig } from './activity-agent-config.js';
import {
  carriedExamples,
  datasetIdOf,
  ensureDataset,
  lockDataset,
  summarize,
  writeVersion,
  type DraftExample,
} from '../datasets/store/dataset-version-writer.js';
import { cycleExampleCount, cycleVersionId } from '../datasets/store/dataset-repository.js';
import { annotationsAsJson } from '../annotation/store/annotation-reads.js';
import { samplesWithClusters } from '../traces/store/sample-repository.js';
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
      const policy = (await activityAgentConfig(db, args.agent)).dataset;
      return db.transaction().execute(async (tx) => {
        const dataset = await ensureDataset(tx, { agent: args.agent, seed: args.seed });
        await lockDataset(tx, dataset.id);
        const existing = await cycleVersionId(tx, datasetIdOf(args.agent, args.agent), args.cycleId);
        if (existing) {
          const summary = await summarize(tx, existing);
          return { ...summary, fromThisCycle: await cycleExampleCount(tx, existing, args.cycleId) };
        }
        // The agent's active version: the newest, unless an operator rolled the dataset back
        // (`flywheel rollback dataset`), in which case the cycle builds on the chosen one.
        const parent = await activeDatasetVersion(tx, args.agent, { excludingCycle: args.cycleId });

        const sampled = await samplesWithClusters(tx, args.cycleId);
        const labels = await latestLabels(tx, args.cycleId);
        const labelIds = [...labels.values()].map((l) => l.id);
        const flagRows = labelIds.length === 0 ? [] : await annotationsAsJson(tx, labelIds);
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
