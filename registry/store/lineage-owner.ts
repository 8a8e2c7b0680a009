import type { Db } from '../../db/connection.js';
import type { LineageKind, LineageRef } from '../lineage-graph.js';
import { identify } from './lineage-repository.js';

type Owner = (db: Db, ref: string) => Promise<string | undefined>;

const viaCycle = async (db: Db, cycleId: string | undefined) =>
  cycleId === undefined
    ? undefined
    : (await db.selectFrom('cycles').select('agent_id').where('id', '=', cycleId).executeTakeFirst())
        ?.agent_id;

/**
 * The agent each kind of lineage node belongs to, through the column that records it or the
 * cycle that made the row. Every row of a lineage chain belongs to one agent: a cycle reads
 * only its agent's traces and writes only its agent's clusters, examples and candidates.
 */
const owners: Record<LineageKind, Owner> = {
  trace: async (db, ref) =>
    (await db.selectFrom('traces').select('agent_id').where('id', '=', ref).limit(1).executeTakeFirst())
      ?.agent_id ??
    // A sampled trace whose row is gone (retention) still belongs to the cycle's agent.
    (await viaCycle(
      db,
      (await db.selectFrom('samples').select('cycle_id').where('trace_id', '=', ref).executeTakeFirst())
        ?.cycle_id,
    )),
  cycle: (db, ref) => viaCycle(db, ref),
  sample: (db, ref) => viaCycle(db, ref.split('|')[0]),
  cluster: async (db, ref) =>
    viaCycle(
      db,
      (await db.selectFrom('clusters').select('cycle_id').where('id', '=', ref).executeTakeFirst())?.cycle_id,
    ),
  annotation_item: async (db, ref) =>
    viaCycle(
      db,
      (await db.selectFrom('annotation_items').select('cycle_id').where('id', '=', ref).executeTakeFirst())
        ?.cycle_id,
    ),
  annotation: async (db, ref) =>
    /^\d{1,18}$/.test(ref)
      ? viaCycle(
          db,
          (
            await db
              .selectFrom('annotations')
              .innerJoin('annotation_items', 'annotation_items.id', 'annotations.item_id')
              .select('annotation_items.cycle_id')
              .where('annotations.id', '=', ref)
              .executeTakeFirst()
          )?.cycle_id,
        )
      : undefined,
  dataset_example: async (db, ref) =>
    (
      await db
        .selectFrom('dataset_examples')
        .innerJoin('dataset_versions', 'dataset_versions.id', 'dataset_examples.dataset_version_id')
        .select('dataset_versions.agent_id')
        .where('dataset_examples.id', '=', ref)
        .executeTakeFirst()
    )?.agent_id,
  dataset_version: async (db, ref) =>
    (await db.selectFrom('dataset_versions').select('agent_id').where('id', '=', ref).executeTakeFirst())
      ?.agent_id,
  optimization_run: async (db, ref) =>
    viaCycle(
      db,
      (await db.selectFrom('optimization_runs').select('cycle_id').where('id', '=', ref).executeTakeFirst())
        ?.cycle_id,
    ),
  candidate: async (db, ref) =>
    viaCycle(
      db,
      (
        await db
          .selectFrom('candidates')
          .innerJoin('optimization_runs', 'optimization_runs.id', 'candidates.run_id')
          .select('optimization_runs.cycle_id')
          .where('candidates.id', '=', ref)
          .executeTakeFirst()
      )?.cycle_id,
    ),
  gate_report: async (db, ref) =>
    viaCycle(
      db,
      (await db.selectFrom('gate_reports').select('cycle_id').where('id', '=', ref).executeTakeFirst())
        ?.cycle_id,
    ),
  release_decision: async (db, ref) =>
    viaCycle(
      db,
      (await db.selectFrom('release_decisions').select('cycle_id').where('id', '=', ref).executeTakeFirst())
        ?.cycle_id,
    ),
  rollout: async (db, ref) =>
    (await db.selectFrom('rollouts').select('agent_id').where('id', '=', ref).executeTakeFirst())?.agent_id,
  rollout_steps: async (db, ref) =>
    (await db.selectFrom('rollouts').select('agent_id').where('id', '=', ref).executeTakeFirst())?.agent_id,
  prompt_version: async (db, ref) =>
    (await db.selectFrom('prompt_versions').select('agent_id').where('id', '=', ref).executeTakeFirst())
      ?.agent_id,
};

/** The agent a lineage node belongs to; undefined when the row is gone. */
export const lineageNodeOwner = (db: Db, ref: LineageRef): Promise<string | undefined> =>
  owners[ref.kind](db, ref.ref);

/**
 * The agent whose lineage an id starts: the owner of what `identify` finds under the id (the
 * same root `lineageOf` draws from). Undefined when nothing is recorded under the id.
 */
export async function lineageOwner(db: Db, id: string): Promise<string | undefined> {
  const root = await identify(db, id);
  return root ? lineageNodeOwner(db, root) : undefined;
}
