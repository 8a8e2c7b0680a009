import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// The trace viewer and a trace's lineage look up cluster memberships and annotation items
// by trace id, which their keys (cluster_id, trace_id) and (cycle_id, trace_id) cannot
// serve; the trace list's cluster filter finds each member's latest clustering the same way.
// Both tables grow by a cycle's sample a week, so the indexes cost ingest nothing.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index if not exists cluster_members_trace on cluster_members (trace_id)`.execute(db);
  await sql`create index if not exists annotation_items_trace on annotation_items (trace_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists annotation_items_trace`.execute(db);
  await sql`drop index if exists cluster_members_trace`.execute(db);
}
