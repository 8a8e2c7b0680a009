import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// The weekly sample reads each stratum's candidates (id, user, sample key, stratum flags)
// lowest sample key first, up to a LIMIT. Without user_id in the partial strata index every
// candidate row came from the heap, and when the planner misjudged a stratum's size (an
// `= any(strata)` custom stratum is estimated at a handful of rows a partition) it fetched
// the whole stratum and sorted it instead of stopping at the limit: ~24,000 random heap
// rows, ~108,000 pages, 16 s cold on a week of 5M traces (bench:ingest, seed 0). With
// user_id included the candidate read is index-only whichever plan is chosen, and texts
// are fetched for the rows returned only. Same columns, same condition word for word, plus
// user_id.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create index traces_strata_candidates on traces (agent_id, sample_key)
      include (started_at, feedback, status, outcome, strata, id, user_id)
      where feedback < 0 or status = 'error' or outcome in ('escalated', 'error') or strata <> '{}';
    drop index traces_strata_sample_key_ids;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create index traces_strata_sample_key_ids on traces (agent_id, sample_key)
      include (started_at, feedback, status, outcome, strata, id)
      where feedback < 0 or status = 'error' or outcome in ('escalated', 'error') or strata <> '{}';
    drop index traces_strata_candidates;
  `.execute(db);
}
