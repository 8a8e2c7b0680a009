import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// The drift check compares the input distribution of two sliding windows through the
// embeddings of every trace in them. It embedded every window's texts again at each check,
// in batches whose cache keys shifted with the window, so after the first days each hourly
// check paid for every embedding again. Each trace's input embedding is now stored once, per
// embedding model (vectors of two models do not compare), and dropped once the trace leaves
// the windows.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table drift_input_embeddings (
      agent_id text not null,
      trace_id text not null,
      trace_started_at timestamptz not null,
      model text not null,
      embedding double precision[] not null,
      primary key (agent_id, trace_id, model)
    );
    create index drift_input_embeddings_agent_time on drift_input_embeddings (agent_id, trace_started_at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table drift_input_embeddings`.execute(db);
}
