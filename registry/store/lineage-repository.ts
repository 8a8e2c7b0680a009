import { sql } from 'kysely';
import {
  LineageGraphBuilder,
  nodeId,
  type Direction,
  type LineageGraph,
  type LineageKind,
  type LineageRef,
  type Neighbour,
} from '../lineage-graph.js';
import type { Db } from '../../db/connection.js';
import { lineageLabels } from './lineage-labels.js';

/** Neighbours listed per node and direction; the rest are counted as "… N more". */
const FAN_OUT = 25;
const MAX_NODES = 400;

const n = (kind: LineageKind, ref: string | null | undefined, relation: string): Neighbour[] =>
  ref === null || ref === undefined ? [] : [{ kind, ref, relation }];

/** What an ID names: the first table that has it, in the order of the lineage chain. */
export async function identify(db: Db, id: string): Promise<LineageRef | null> {
  const probes: [LineageKind, () => Promise<{ id: string } | undefined>][] = [
    [
      'release_decision',
      () => db.selectFrom('release_decisions').select('id').where('id', '=', id).executeTakeFirst(),
    ],
    ['rollout', () => db.selectFrom('rollouts').select('id').where('id', '=', id).executeTakeFirst()],
    ['gate_report', () => db.selectFrom('gate_reports').select('id').where('id', '=', id).executeTakeFirst()],
    ['candidate', () => db.selectFrom('candidates').select('id').where('id', '=', id).executeTakeFirst()],
    [
      'prompt_version',
      () => db.selectFrom('prompt_versions').select('id').where('id', '=', id).executeTakeFirst(),
    ],
    [
      'optimization_run',
      () => db.selectFrom('optimization_runs').select('id').where('id', '=', id).executeTakeFirst(),
    ],
    [
      'dataset_version',
      () => db.selectFrom('dataset_versions').select('id').where('id', '=', id).executeTakeFirst(),
    ],
    [
      'dataset_example',
      () => db.selectFrom('dataset_examples').select('id').where('id', '=', id).executeTakeFirst(),
    ],
    [
      'annotation_item',
      () => db.selectFrom('annotation_items').select('id').where('id', '=', id).executeTakeFirst(),
    ],
    [
      'annotation',
      async () =>
        /^\d{1,18}$/.test(id)
          ? db
              .selectFrom('annotations')
              .select(sql<string>`id::text`.as('id'))
              .where('id', '=', id)
              .executeTakeFirst()
          : undefined,
    ],
    ['cluster', () => db.selectFrom('clusters').select('id').where('id', '=', id).executeTakeFirst()],
    [
      'cluster',
      // A stable cluster id names the cluster across cycles: start from its newest row.
      () =>
        db
          .selectFrom('clusters')
          .innerJoin('cycles', 'cycles.id', 'clusters.cycle_id')
          .select('clusters.id')
          .where('clusters.stable_id', '=', id)
          .orderBy('cycles.started_at', 'desc')
          .executeTakeFirst(),
    ],
    ['cycle', () => db.selectFrom('cycles').select('id').where('id', '=', id).executeTakeFirst()],
    ['trace', () => db.selectFrom('traces').select('id').where('id', '=', id).executeTakeFirst()],
    [
      'trace',
      () => db.selectFrom('samples').select('trace_id as id').where('trace_id', '=', id).executeTakeFirst(),
    ],
  ];
  for (const [kind, probe] of probes) {
    const row = await probe();
    if (row) return { kind, ref: row.id };
  }
  return null;
}

type Expander = (db: Db, ref: string, via: LineageRef | null) => Promise<Neighbour[]>;

const upstream: Partial<Record<LineageKind, Expander>> = {
  rollout: async (db, ref) => {
    const r = await db
      .selectFrom('rollouts')
      .select('release_decision_id')
      .where('id', '=', ref)
      .executeTakeFirst();
    return n('release_decision', r?.release_decision_id, 'released by');
  },
  rollout_steps: (_db, ref) => Promise.resolve(n('rollout', ref, 'steps of')),
  release_decision: async (db, ref) => {
    const r = await db
      .selectFrom('release_decisions')
      .select('gate_report_id')
      .where('id', '=', ref)
      .executeTakeFirst();
    return n('gate_report', r?.gate_report_id, 'decided on');
  },
  gate_report: async (db, ref) => {
    const r = await db
      .selectFrom('gate_reports')
      .select('candidate_id')
      .where('id', '=', ref)
      .executeTakeFirst();
    return n('candidate', r?.candidate_id, 'gated');
  },
  candidate: async (db, ref) => {
    const r = await db.selectFrom('candidates').select('run_id').where('id', '=', ref).executeTakeFirst();
    return n('optimization_run', r?.run_id, 'proposed by');
  },
  prompt_version: async (db, ref) => {
    const r = await db
      .selectFrom('prompt_versions')
      .select('candidate_id')
      .where('id', '=', ref)
      .executeTakeFirst();
    return n('candidate', r?.candidate_id, 'made from');
  },
  optimization_run: async (db, ref) => {
    const used = await db
      .selectFrom('optimization_run_examples')
      .select('dataset_version_id')
      .distinct()
      .where('run_id', '=', ref)
      .execute();
    if (used.length > 0) return used.flatMap((u) => n('dataset_version', u.dataset_version_id, 'trained on'));
    // Runs recorded before run examples were: the version built by the run's cycle.
    const v = await db
      .selectFrom('optimization_runs as r')
      .innerJoin('dataset_versions as v', 'v.cycle_id', 'r.cycle_id')
      .select('v.id')
      .where('r.id', '=', ref)
      .execute();
    return v.flatMap((x) => n('dataset_version', x.id, 'trained on'));
  },
  dataset_version: async (db, ref, via) => {
    if (via?.kind === 'optimization_run') {
      // From a run: only the train examples that run used.
      const used = await db
        .selectFrom('optimization_run_examples')
        .select('example_id')
        .where('run_id', '=', via.ref)
        .where('dataset_version_id', '=', ref)
        .orderBy('example_id')
        .execute();
      return used.flatMap((u) => n('dataset_example', u.example_id, 'train example'));
    }
    const v = await db
      .selectFrom('dataset_versions')
      .select('parent_version_id')
      .where('id', '=', ref)
      .executeTakeFirst();
    const ex = await db
      .selectFrom('dataset_examples')
      .select(['id', 'split'])
      .where('dataset_version_id', '=', ref)
      .orderBy('id')
      .execute();
    return [
      ...n('dataset_version', v?.parent_version_id, 'derived from'),
      ...ex.flatMap((e) => n('dataset_example', e.id, `${e.split} example`)),
    ];
  },
  dataset_example: async (db, ref) => {
    const e = await db
      .selectFrom('dataset_examples')
      .select(['trace_id', 'cluster_id', sql<string | null>`annotation_id::text`.as('annotation_id')])
      .where('id', '=', ref)
      .executeTakeFirst();
    return [
      ...n('trace', e?.trace_id, 'from trace'),
      ...n('cluster', e?.cluster_id, 'failure cluster'),
      ...n('annotation', e?.annotation_id, 'labelled by'),
    ];
  },
  annotation: async (db, ref) => {
    const a = await db.selectFrom('annotations').select('item_id').where('id', '=', ref).executeTakeFirst();
    return n('annotation_item', a?.item_id, 'answers');
  },
  annotation_item: async (db, ref) => {
    const i = await db
      .selectFrom('annotation_items')
      .select(['trace_id', 'cluster_id'])
      .where('id', '=', ref)
      .executeTakeFirst();
    return [
      ...n('trace', i?.trace_id, 'reviews trace'),
      ...n('cluster', i?.cluster_id, 'queued from cluster'),
    ];
  },
  cluster: async (db, ref, via) => {
    // Members only when the cluster is what was asked about; reached from an example, the
    // example's own trace is the relevant one.
    if (via) return [];
    const m = await db
      .selectFrom('cluster_members')
      .select('trace_id')
      .where('cluster_id', '=', ref)
      .orderBy('trace_id')
      .execute();
    return m.flatMap((x) => n('trace', x.trace_id, 'member'));
  },
  sample: (_db, ref) => Promise.resolve(n('trace', ref.split('|')[1], 'sampled trace')),
  trace: async (db, ref, via) => {
    // The prompt version that served the trace; a trace naming no prompt ran the agent's own,
    // which is named after the agent. Only for the trace asked about: reached from a
    // decision's examples, every trace would pull in the history of the version that
    // produced it, which is not what that decision came from.
    if (via) return [];
    const v = await db
      .selectFrom('traces')
      .innerJoin('prompt_versions as p', (j) =>
        j
          .onRef('p.agent_id', '=', 'traces.agent_id')
          .on((eb) => eb('p.name', '=', eb.fn.coalesce('traces.prompt_name', 'traces.agent_id')))
          .onRef('p.version', '=', 'traces.prompt_version'),
      )
      .select('p.id')
      .where('traces.id', '=', ref)
      .executeTakeFirst();
    return n('prompt_version', v?.id, 'produced by');
  },
};

const downstream: Partial<Record<LineageKind, Expander>> = {
  trace: async (db, ref) => {
    const [samples, clusters, items, examples] = await Promise.all([
      db.selectFrom('samples').select('cycle_id').where('trace_id', '=', ref).orderBy('cycle_id').execute(),
      db
        .selectFrom('cluster_members')
        .select('cluster_id')
        .where('trace_id', '=', ref)
        .orderBy('cluster_id')
        .execute(),
      db.selectFrom('annotation_items').select('id').where('trace_id', '=', ref).orderBy('id').execute(),
      db.selectFrom('dataset_examples').select('id').where('trace_id', '=', ref).orderBy('id').execute(),
    ]);
    return [
      ...samples.flatMap((s) => n('sample', `${s.cycle_id}|${ref}`, 'sampled')),
      ...clusters.flatMap((c) => n('cluster', c.cluster_id, 'clustered into')),
      ...items.flatMap((i) => n('annotation_item', i.id, 'queued for review')),
      ...examples.flatMap((e) => n('dataset_example', e.id, 'became example')),
    ];
  },
  cycle: async (db, ref) => {
    const [clusters, versions, runs] = await Promise.all([
      db.selectFrom('clusters').select('id').where('cycle_id', '=', ref).orderBy('id').execute(),
      db.selectFrom('dataset_versions').select('id').where('cycle_id', '=', ref).orderBy('id').execute(),
      db.selectFrom('optimization_runs').select('id').where('cycle_id', '=', ref).orderBy('id').execute(),
    ]);
    return [
      ...clusters.flatMap((c) => n('cluster', c.id, 'diagnosed')),
      ...versions.flatMap((v) => n('dataset_version', v.id, 'built')),
      ...runs.flatMap((r) => n('optimization_run', r.id, 'optimized')),
    ];
  },
  cluster: async (db, ref, via) => {
    if (via) return [];
    const [items, examples] = await Promise.all([
      db.selectFrom('annotation_items').select('id').where('cluster_id', '=', ref).orderBy('id').execute(),
      db.selectFrom('dataset_examples').select('id').where('cluster_id', '=', ref).orderBy('id').execute(),
    ]);
    return [
      ...items.flatMap((i) => n('annotation_item', i.id, 'queued for review')),
      ...examples.flatMap((e) => n('dataset_example', e.id, 'example')),
    ];
  },
  annotation_item: async (db, ref) => {
    const a = await db
      .selectFrom('annotations')
      .select(sql<string>`id::text`.as('id'))
      .where('item_id', '=', ref)
      .orderBy('id')
      .execute();
    return a.flatMap((x) => n('annotation', x.id, 'answered'));
  },
  annotation: async (db, ref) => {
    const e = await db
      .selectFrom('dataset_examples')
      .select('id')
      .where(sql<string>`annotation_id::text`, '=', ref)
      .orderBy('id')
      .execute();
    return e.flatMap((x) => n('dataset_example', x.id, 'labelled example'));
  },
  dataset_example: async (db, ref, via) => {
    const [runs, version] = await Promise.all([
      db
        .selectFrom('optimization_run_examples')
        .select('run_id')
        .where('example_id', '=', ref)
        .orderBy('run_id')
        .execute(),
      // The version holding the example (the same edge a version's upstream draws, seen from
      // the example), unless the walk came from that version.
      via?.kind === 'dataset_version'
        ? Promise.resolve(undefined)
        : db
            .selectFrom('dataset_examples')
            .select('dataset_version_id')
            .where('id', '=', ref)
            .executeTakeFirst(),
    ]);
    return [
      ...n('dataset_version', version?.dataset_version_id, 'in version'),
      ...runs.flatMap((x) => n('optimization_run', x.run_id, 'trained')),
    ];
  },
  dataset_version: async (db, ref) => {
    const [children, runs] = await Promise.all([
      db
        .selectFrom('dataset_versions')
        .select('id')
        .where('parent_version_id', '=', ref)
        .orderBy('id')
        .execute(),
      db
        .selectFrom('optimization_run_examples')
        .select('run_id')
        .distinct()
        .where('dataset_version_id', '=', ref)
        .orderBy('run_id')
        .execute(),
    ]);
    return [
      ...children.flatMap((c) => n('dataset_version', c.id, 'next version')),
      ...runs.flatMap((r) => n('optimization_run', r.run_id, 'trained')),
    ];
  },
  optimization_run: async (db, ref) => {
    // Candidates that went further than the search: the best one and any that were gated.
    const c = await db
      .selectFrom('candidates')
      .select('id')
      .where('run_id', '=', ref)
      .where((eb) =>
        eb.or([
          eb.exists(
            eb
              .selectFrom('gate_reports')
              .select('id')
              .whereRef('gate_reports.candidate_id', '=', 'candidates.id'),
          ),
          eb(
            'id',
            'in',
            eb
              .selectFrom('optimization_runs')
              .select('best_candidate_id')
              .where('id', '=', ref)
              .where('best_candidate_id', 'is not', null)
              .$castTo<string>(),
          ),
        ]),
      )
      .orderBy('id')
      .execute();
    return c.flatMap((x) => n('candidate', x.id, 'proposed'));
  },
  candidate: async (db, ref) => {
    const [gates, versions] = await Promise.all([
      db.selectFrom('gate_reports').select('id').where('candidate_id', '=', ref).orderBy('id').execute(),
      db.selectFrom('prompt_versions').select('id').where('candidate_id', '=', ref).orderBy('id').execute(),
    ]);
    return [
      ...gates.flatMap((g) => n('gate_report', g.id, 'gated by')),
      ...versions.flatMap((v) => n('prompt_version', v.id, 'became prompt')),
    ];
  },
  gate_report: async (db, ref) => {
    const d = await db
      .selectFrom('release_decisions')
      .select('id')
      .where('gate_report_id', '=', ref)
      .orderBy('id')
      .execute();
    return d.flatMap((x) => n('release_decision', x.id, 'decision'));
  },
  release_decision: async (db, ref) => {
    const r = await db
      .selectFrom('rollouts')
      .select('id')
      .where('release_decision_id', '=', ref)
      .orderBy('id')
      .execute();
    return r.flatMap((x) => n('rollout', x.id, 'rolled out'));
  },
  rollout: async (db, ref) => {
    const s = await db
      .selectFrom('rollout_steps')
      .select('rollout_id')
      .where('rollout_id', '=', ref)
      .executeTakeFirst();
    return n('rollout_steps', s?.rollout_id, 'steps');
  },
};

async function expand(
  db: Db,
  g: LineageGraphBuilder,
  root: LineageRef,
  direction: Direction,
  maxNodes = MAX_NODES,
): Promise<void> {
  const table = direction === 'upstream' ? upstream : downstream;
  let frontier: { ref: LineageRef; via: LineageRef | null }[] = [{ ref: root, via: null }];
  const done = new Set<string>();
  while (frontier.length > 0 && g.size < maxNodes) {
    const next: typeof frontier = [];
    for (const { ref, via } of frontier) {
      if (done.has(nodeId(ref))) continue;
      done.add(nodeId(ref));
      const expander = table[ref.kind];
      if (!expander) continue;
      const found = await expander(db, ref.ref, via);
      const shown = found.slice(0, FAN_OUT);
      g.truncate(ref, direction, found.length - shown.length);
      for (const f of shown) {
        g.link(ref, f, direction);
        next.push({ ref: { kind: f.kind, ref: f.ref }, via: ref });
      }
    }
    frontier = next;
  }
}

/** The lineage of one ID, both directions, with a one-line label per node. */
export async function lineageOf(db: Db, id: string): Promise<LineageGraph | null> {
  const root = await identify(db, id);
  if (!root) return null;
  const g = new LineageGraphBuilder(root);
  // A trace's upstream (its prompt version, the run and the examples behind that version)
  // can fan out widely; half the budget keeps room for what the trace became.
  await expand(db, g, root, 'upstream', root.kind === 'trace' ? MAX_NODES / 2 : MAX_NODES);
  await expand(db, g, root, 'downstream');
  return g.build(await lineageLabels(db, g.refs()));
}
