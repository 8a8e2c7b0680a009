import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// Coaching memories: situation-scoped corrective examples per agent. `coaching` holds one
// row per memory and its current-version pointer (a rollback moves it); every change
// (creation, edit, retirement) is an immutable row of `coaching_versions` with the
// situation, its embedding (and the embedder that made it, since vectors of two embedders
// are not comparable), the behaviour, the source trace and step, the recall threshold, the
// status and who made it why. `changed_at` on the agent's memories tells an API process
// whether its in-memory recall index is stale with one indexed read.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table coaching (
      id text primary key,
      agent_id text not null references agents(id),
      version integer not null,
      created_at timestamptz not null default now(),
      changed_at timestamptz not null default now()
    );
    create index coaching_agent_changed on coaching (agent_id, changed_at);

    create table coaching_versions (
      coaching_id text not null references coaching(id),
      version integer not null,
      situation text not null,
      embedding real[] not null,
      embedder text not null,
      behaviour jsonb not null,
      example text,
      source_trace_id text,
      source_step integer,
      threshold double precision not null,
      status text not null check (status in ('active', 'retired')),
      created_by text not null,
      reason text not null,
      created_at timestamptz not null default now(),
      primary key (coaching_id, version)
    );
    alter table coaching add foreign key (id, version) references coaching_versions (coaching_id, version)
      deferrable initially deferred;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table coaching drop constraint coaching_id_version_fkey;
    drop table coaching_versions, coaching;
  `.execute(db);
}
