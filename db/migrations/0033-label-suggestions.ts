import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// A label suggested for an annotation item by the teacher model (verdict, category, the step
// the agent should have taken, a one-sentence reason), asked once per item when a reviewer
// first opens it and kept, so every reviewer of the item sees the same suggestion and the
// model is not asked again. `model` names who wrote it. A label does not point at it: which
// labels equal their item's suggestion is computed on read (how often reviewers took it).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table label_suggestions (
      item_id text primary key references annotation_items(id) on delete cascade,
      verdict text not null check (verdict in ('pass', 'fail')),
      category text,
      expected jsonb,
      reason text not null,
      model text not null,
      created_at timestamptz not null default now()
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table label_suggestions`.execute(db);
}
