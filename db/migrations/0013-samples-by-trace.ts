import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// Sampling leaves out traces an earlier cycle sampled (`sampling.skipSampledBefore`): each
// candidate is looked up by trace id, which the (cycle_id, trace_id) key cannot serve.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index if not exists samples_trace_id on samples (trace_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists samples_trace_id`.execute(db);
}
