import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// OTel GenAI instrumentations record message content as log events that name their span by
// trace and span id (`POST /v1/logs`). A log can arrive before its span is exported; until
// the span is stored, its events wait here and are attached when the span arrives.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table if not exists pending_span_events (
      id bigserial primary key,
      agent_id text not null,
      trace_id text not null,
      span_id text not null,
      event jsonb not null,
      received_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index if not exists pending_span_events_trace on pending_span_events (trace_id)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists pending_span_events`.execute(db);
}
