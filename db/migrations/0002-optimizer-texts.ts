import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
// Optimizer texts (component texts, critiques, demo blocks) are content-addressed, so a
// candidate is a small map of component → text ID and identical texts are stored once.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table prompt_texts (
      id text primary key,
      text text not null,
      kind text not null,
      created_at timestamptz not null default now()
    );
    alter table candidates add column components jsonb;
    alter table optimization_runs add column teacher_calls integer not null default 0;
    alter table optimization_runs add column tokens bigint not null default 0;
    alter table optimization_runs add column warnings jsonb not null default '[]';
    alter table optimization_runs add column trajectory jsonb not null default '[]';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table optimization_runs drop column trajectory, drop column warnings, drop column tokens, drop column teacher_calls;
    alter table candidates drop column components;
    drop table prompt_texts;
  `.execute(db);
}
