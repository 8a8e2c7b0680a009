import { RANDOM } from '../traces/sample-selection.js';
import { activeDatasetVersion } from '../registry/store/artifact-repository.js';
import { deriveSlices } from '../datasets/example-slices.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import {
  carriedExamples,
  datasetIdOf,
  ensureDataset,
  exampleIdOf,
  lockDataset,
  summarize,
  writeVersion,
  type DraftExample,
} from '../datasets/store/dataset-version-writer.js';
import {
  cycleExampleCount,
  cycleVersionId,
  newestPublishedVersionId,
} from '../datasets/store/dataset-repository.js';
import { FINE_TUNE_DATASET } from '../datasets/fine-tune-export.js';
import { staleExamples } from '../datasets/stale-examples.js';
import { cycleSliceFlags } from '../annotation/store/annotation-reads.js';
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
  /** Carried examples the policy's `stalenessDays` left out of this version. */
  retiredStale?: number;
  /** The version of the agent's fine-tune dataset this cycle added corrected failures to. */
  fineTune?: { datasetVersionId: string; fromThisCycle: number };
  decontamination: { movedFromGating: number; nearDuplicates: number };
}

export function createDatasetActivities({ db }: ActivityDeps) {
  return {
    /**
     * Promotes this cycle's labelled traces into a new published version of the agent's
     * default dataset, copy-on-write from the newest version. The expectation comes from a
     * reviewer when there is one (a human `pass` confirms the agent's own step), else from
     * the trace; the slices reviewers flagged join the example's. Carried examples older than
     * the policy's `stalenessDays` are retired in the new version, each with its reason.
     * Idempotent: a retry finds the version this cycle already published (the
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
        const existing = await cycleVersionId(tx, datasetIdOf(args.agent, args.agent), args.cycleId);
        if (existing) {
          const summary = await summarize(tx, existing);
          const fineTuneId = await cycleVersionId(
            tx,
            datasetIdOf(args.agent, FINE_TUNE_DATASET),
            args.cycleId,
          );
          return {
            ...summary,
            fromThisCycle: await cycleExampleCount(tx, existing, args.cycleId),
            ...(fineTuneId
              ? {
                  fineTune: {
                    datasetVersionId: fineTuneId,
                    fromThisCycle: await cycleExampleCount(tx, fineTuneId, args.cycleId),
                  },
                }
              : {}),
          };
        }
        // The agent's active version: the newest, unless an operator rolled the dataset back
        // (`flywheel rollback dataset`), in which case the cycle builds on the chosen one.
        const parent = await activeDatasetVersion(tx, args.agent, { excludingCycle: args.cycleId });

        const sampled = await samplesWithClusters(tx, args.cycleId);
        const labels = await latestLabels(tx, args.cycleId);
        const flags = await cycleSliceFlags(tx, args.cycleId);

        const fresh: DraftExample[] = [];
        const fineTune: DraftExample[] = [];
        for (const t of sampled) {
          const label = labels.get(t.id);
          // Failures a prompt cannot fix (tool, context, fine-tune, RL, or undiagnosed) are
          // recommendations in the report, not optimizer data. A fine-tune-rung failure a
          // reviewer corrected is training data: it goes to the agent's fine-tune dataset,
          // which `dataset export --format openai-sft|openai-dpo|hf-chat` turns into a file.
          if (t.cluster_id !== null && t.intervention !== 'prompt') {
            const corrected = AgentAction.safeParse(label?.verdict === 'fail' ? label.expected : undefined);
            if (t.intervention === 'fine_tune' && label && corrected.success)
              fineTune.push({
                key: t.id,
                traceId: t.id,
                clusterId: t.cluster_id,
                clusterStableId: t.stable_id,
                annotationId: String(label.id),
                cycleId: args.cycleId,
                input: t.input,
                expected: corrected.data,
                // Never the regression slice: nothing gates on this dataset.
                slices: deriveSlices({
                  attributes: t.attributes,
                  clusterCategory: t.category,
                  reviewerFlags: flags.get(t.id),
                }),
                source: 'cycle',
                createdBy: label.reviewer ?? 'flywheel',
                createdAt: null,
                originVersionId: null,
                gatingExcluded: null,
                requestedSplit: null,
              });
            continue;
          }
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
              reviewerFlags: flags.get(t.id),
              confirmedFailure:
                label?.verdict === 'fail' && label.expected !== null && label.expected !== undefined,
              sampledAtRandom: t.reasons.includes(RANDOM),
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
        const kept = parent
          ? (await carriedExamples(tx, parent.id)).filter((e) => !freshKeys.has(e.key))
          : [];
        // Activities may read the clock; example ages are wall-clock days.
        const stale = parent ? staleExamples(kept, policy.stalenessDays, new Date()) : [];
        const staleKeys = new Set(stale.map((s) => s.key));
        const carried = kept.filter((e) => !staleKeys.has(e.key));
        const summary = await writeVersion(tx, {
          dataset,
          parentVersionId: parent?.id ?? null,
          cycleId: args.cycleId,
          createdBy: 'flywheel',
          note:
            `promoted ${fresh.length} labelled trace(s) of ${args.cycleId}` +
            (stale.length > 0 ? `; retired ${stale.length} stale example(s)` : ''),
          examples: [...carried, ...fresh],
          retirements: parent ? stale.map((s) => ({ ...s, exampleId: exampleIdOf(parent.id, s.key) })) : [],
          policy,
        });
        const fineTuneVersion =
          fineTune.length > 0 ? await writeFineTuneVersion(tx, args, fineTune, policy) : undefined;
        return {
          ...summary,
          fromThisCycle: fresh.length,
          ...(fineTuneVersion ? { fineTune: fineTuneVersion } : {}),
          ...(stale.length > 0 ? { retiredStale: stale.length } : {}),
        };
      });
    },
  };
}

/**
 * A new version of the agent's fine-tune dataset: the parent's examples plus this cycle's
 * corrected fine-tune-rung failures (a relabelled trace replaces its earlier example). It is
 * written in the same transaction as the default dataset's version, so a retried build finds
 * both or neither.
 */
async function writeFineTuneVersion(
  tx: Parameters<typeof ensureDataset>[0],
  args: { cycleId: string; agent: string; seed: number },
  fresh: DraftExample[],
  policy: Parameters<typeof writeVersion>[1]['policy'],
): Promise<{ datasetVersionId: string; fromThisCycle: number }> {
  const dataset = await ensureDataset(tx, {
    agent: args.agent,
    name: FINE_TUNE_DATASET,
    description: `Reviewer-corrected failures of ${args.agent} that a prompt cannot fix (fine-tune rung)`,
    seed: args.seed,
  });
  await lockDataset(tx, dataset.id);
  const parentId = await newestPublishedVersionId(tx, dataset.id);
  const freshKeys = new Set(fresh.map((f) => f.key));
  const carried = parentId ? (await carriedExamples(tx, parentId)).filter((e) => !freshKeys.has(e.key)) : [];
  const summary = await writeVersion(tx, {
    dataset,
    parentVersionId: parentId ?? null,
    cycleId: args.cycleId,
    createdBy: 'flywheel',
    note: `corrected ${fresh.length} fine-tune-rung failure(s) of ${args.cycleId}`,
    examples: [...carried, ...fresh],
    retirements: [],
    policy,
  });
  return { datasetVersionId: summary.datasetVersionId, fromThisCycle: fresh.length };
}
