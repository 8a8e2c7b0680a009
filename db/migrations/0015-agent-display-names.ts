import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// Agents are registered explicitly (`flywheel agent create`, POST /api/agents) with a name
// people read next to the id, which stays the stable key of tokens, traces and workflows.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table agents add column if not exists display_name text not null default ''`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table agents drop column if exists display_name`.execute(db);
}
