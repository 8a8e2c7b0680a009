import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// A rollout can carry a coaching set: the candidate coaching its gate evaluated, as
// [{ id, version }]. While it runs, recall serves the set to the conversations the
// candidate prompt version answers; completion promotes the set, a rollback retires it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table rollouts add column coaching jsonb`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table rollouts drop column coaching`.execute(db);
}
