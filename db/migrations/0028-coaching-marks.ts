import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// Reviewers' marks on coaching applications: one row per (coaching, trace, reviewer) saying
// whether the coaching the trace applied was correctly or wrongly applied there, with the
// similarity of that conversation to the coaching's situation (what the recall threshold is
// compared with) and the threshold before and after the mark. Marks move a coaching's
// threshold through new coaching versions; `author_threshold` on a version keeps the
// threshold its author chose (null: the version's threshold is the author's), so the rule
// always starts again from the author's choice and a rollback restores both. A partial GIN
// index finds the traces that applied a coaching (`flywheel.coaching.ids` holds `id@version`)
// without reading the traces that applied none.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table coaching_versions add column author_threshold double precision;

    create table coaching_marks (
      coaching_id text not null references coaching(id),
      trace_id text not null,
      reviewer text not null,
      verdict text not null check (verdict in ('correct', 'wrong')),
      applied_version integer not null,
      similarity double precision not null,
      embedder text not null,
      comment text,
      threshold_before double precision not null,
      threshold_after double precision not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (coaching_id, trace_id, reviewer)
    );
    create index coaching_marks_trace on coaching_marks (trace_id);

    create index traces_coaching_ids on traces using gin ((attributes -> 'flywheel.coaching.ids'))
      where attributes ? 'flywheel.coaching.ids';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop index traces_coaching_ids;
    drop table coaching_marks;
    alter table coaching_versions drop column author_threshold;
  `.execute(db);
}
