import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// Weekly sampling reads each stratum's traces lowest sample key first and stops at a
// LIMIT, and counts each stratum from the index alone: the partial strata index moves from
// (agent_id, started_at) to (agent_id, sample_key) and carries the columns the strata and
// the window are decided by. Its condition is the old one word for word, so it still holds
// only the rare strata rows.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create index traces_strata_sample_key on traces (agent_id, sample_key)
      include (started_at, feedback, status, outcome, strata)
      where feedback < 0 or status = 'error' or outcome in ('escalated', 'error') or strata <> '{}';
    drop index traces_strata;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create index traces_strata on traces (agent_id, started_at)
      where feedback < 0 or status = 'error' or outcome in ('escalated', 'error') or strata <> '{}';
    drop index traces_strata_sample_key;
  `.execute(db);
}
