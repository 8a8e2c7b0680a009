import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// The weekly sample counts each stratum from the partial strata index alone, but the count
// also leaves out traces an earlier cycle sampled (skipSampledBefore, on by default), which
// joins on traces.id: with id not in the index, every stratum row was fetched from the heap.
// On a week of 5M traces that is ~120,000 random page reads, 9-13 s when the pages are not
// cached (bench:ingest); with id included the count is an index-only scan again (~300 pages
// for 1M traces). Same columns, same condition word for word, plus id.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create index traces_strata_sample_key_ids on traces (agent_id, sample_key)
      include (started_at, feedback, status, outcome, strata, id)
      where feedback < 0 or status = 'error' or outcome in ('escalated', 'error') or strata <> '{}';
    drop index traces_strata_sample_key;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create index traces_strata_sample_key on traces (agent_id, sample_key)
      include (started_at, feedback, status, outcome, strata)
      where feedback < 0 or status = 'error' or outcome in ('escalated', 'error') or strata <> '{}';
    drop index traces_strata_sample_key_ids;
  `.execute(db);
}
