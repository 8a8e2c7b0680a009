import { sql } from 'kysely';
import { nodeId, type LineageKind, type LineageRef } from '../lineage-graph.js';
import type { Db } from '../../db/connection.js';

/** One line per lineage node: what a reader needs to recognise it without opening it. */
export async function lineageLabels(db: Db, refs: readonly LineageRef[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const of = (kind: LineageKind) => refs.filter((r) => r.kind === kind).map((r) => r.ref);
  const put = (kind: LineageKind, ref: string, label: string) => out.set(nodeId({ kind, ref }), label);
  // An IN list cannot be empty; no row has an empty id.
  const ids = (kind: LineageKind) => {
    const list = of(kind);
    return list.length > 0 ? list : [''];
  };
  const [decisions, gates, runs, versions, examples, clusters, annotations, rollouts, samples, prompts] =
    await Promise.all([
      db
        .selectFrom('release_decisions')
        .select(['id', 'decision', 'decided_by'])
        .where('id', 'in', ids('release_decision'))
        .execute(),
      db
        .selectFrom('gate_reports')
        .select(['id', 'passed', 'failing_assertion'])
        .where('id', 'in', ids('gate_report'))
        .execute(),
      db
        .selectFrom('optimization_runs')
        .select(['id', 'optimizer', 'baseline_score', 'best_score'])
        .where('id', 'in', ids('optimization_run'))
        .execute(),
      db
        .selectFrom('dataset_versions')
        .select(['id', 'note', 'published_at'])
        .where('id', 'in', ids('dataset_version'))
        .execute(),
      db
        .selectFrom('dataset_examples')
        .select(['id', 'split', 'slices', 'gating_excluded'])
        .where('id', 'in', ids('dataset_example'))
        .execute(),
      db
        .selectFrom('clusters')
        .select(['id', 'stable_id', 'name', 'category', 'size'])
        .where('id', 'in', ids('cluster'))
        .execute(),
      db
        .selectFrom('annotations')
        .select([sql<string>`id::text`.as('id'), 'reviewer', 'verdict'])
        .where(sql<string>`id::text`, 'in', ids('annotation'))
        .execute(),
      db
        .selectFrom('rollouts')
        .select(['id', 'status', 'weight'])
        .where('id', 'in', ids('rollout'))
        .execute(),
      db
        .selectFrom('samples')
        .select(['cycle_id', 'trace_id', 'reason'])
        .where(sql<string>`cycle_id || '|' || trace_id`, 'in', ids('sample'))
        .execute(),
      db
        .selectFrom('prompt_versions')
        .select(['id', 'version'])
        .where('id', 'in', ids('prompt_version'))
        .execute(),
    ]);
  for (const d of decisions) put('release_decision', d.id, `${d.decision} by ${d.decided_by}`);
  for (const g of gates)
    put('gate_report', g.id, g.passed ? 'passed' : `failed: ${g.failing_assertion ?? 'see report'}`);
  for (const r of runs)
    put(
      'optimization_run',
      r.id,
      `${r.optimizer}, train score ${r.baseline_score ?? '?'} → ${r.best_score ?? '?'}`,
    );
  for (const v of versions)
    put('dataset_version', v.id, `${v.published_at ? 'published' : 'draft'}; ${v.note}`);
  for (const e of examples)
    put(
      'dataset_example',
      e.id,
      `${e.split}${e.slices.length ? ` [${e.slices.join(', ')}]` : ''}${e.gating_excluded ? ` (${e.gating_excluded})` : ''}`,
    );
  for (const c of clusters)
    put('cluster', c.id, `${c.stable_id ?? ''} "${c.name}" ${c.category}, ${c.size} trace(s)`);
  for (const a of annotations) put('annotation', a.id, `${a.verdict} by ${a.reviewer}`);
  for (const r of rollouts) put('rollout', r.id, `${r.status} at weight ${r.weight}`);
  for (const p of prompts) put('prompt_version', p.id, `version ${p.version}`);
  for (const s of samples) {
    const scores = await db
      .selectFrom('scores')
      .select(['dimension', 'label'])
      .where('cycle_id', '=', s.cycle_id)
      .where('trace_id', '=', s.trace_id)
      .execute();
    const failing = [...new Set(scores.filter((x) => x.label === 'fail').map((x) => x.dimension))].sort();
    put(
      'sample',
      `${s.cycle_id}|${s.trace_id}`,
      `in ${s.cycle_id} (${s.reason}); ${scores.length} score(s)${failing.length ? `, failing ${failing.join(', ')}` : ''}`,
    );
  }
  for (const r of of('rollout_steps')) {
    const steps = await db
      .selectFrom('rollout_steps')
      .select(['step_index', 'weight', 'verdict'])
      .where('rollout_id', '=', r)
      .orderBy('step_index')
      .orderBy('round')
      .execute();
    const last = steps.at(-1);
    put(
      'rollout_steps',
      r,
      `${steps.length} step(s); last ${last?.verdict ?? '?'} at weight ${last?.weight ?? '?'}`,
    );
  }
  return out;
}
