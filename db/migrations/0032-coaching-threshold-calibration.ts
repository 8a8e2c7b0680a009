import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// How a coaching created without a threshold got one: calibrated on the embedder from its
// similarity to its source conversation against the agent's other recent conversations, or
// the default when there was too little evidence ({ rule, embedder, source, others, above,
// gap, threshold, summary }). Null: the author set the threshold, or the version predates
// calibration. New versions copy it, so it keeps describing the author's threshold.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table coaching_versions add column threshold_calibration jsonb`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table coaching_versions drop column threshold_calibration`.execute(db);
}
