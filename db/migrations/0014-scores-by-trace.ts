import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// The optimizer reads what the judge said about an example's trace in whichever cycle last
// judged it, so scores are looked up by trace (the unique key starts with the cycle).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index if not exists scores_trace_source on scores (trace_id, source)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists scores_trace_source`.execute(db);
}
