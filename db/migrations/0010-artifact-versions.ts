import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// Every artifact a cycle depends on gets a version history and can be rolled back on its
// own. Agent configuration: one immutable row per change, and agents.config stays the
// current one so its readers need not change; existing agents become version 1.
// Judge rubrics: per-agent versions of each dimension's rubric and an active pointer (no
// row means the built-in rubric). Datasets: an active-version pointer per agent; the
// version the pointer was set over tells a later build (newer than it) from a rollback;
// it names the dataset version without a foreign key because dataset_versions is reshaped
// by an earlier migration in flight, and the repository checks the version exists.
// Scores and evaluator errors record which rubric version judged them.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table agent_config_versions (
      agent_id text not null references agents(id),
      version integer not null,
      config jsonb not null,
      created_by text not null,
      reason text not null,
      created_at timestamptz not null default now(),
      primary key (agent_id, version)
    );
    insert into agent_config_versions (agent_id, version, config, created_by, reason, created_at)
      select id, 1, config, 'migration', 'configuration before versioning', created_at from agents;

    create table rubric_versions (
      agent_id text not null references agents(id),
      dimension text not null,
      version integer not null,
      rubric jsonb not null,
      created_by text not null,
      reason text not null,
      created_at timestamptz not null default now(),
      primary key (agent_id, dimension, version)
    );
    create table rubric_pointers (
      agent_id text not null references agents(id),
      dimension text not null,
      version integer not null,
      updated_by text not null,
      updated_at timestamptz not null default now(),
      primary key (agent_id, dimension),
      foreign key (agent_id, dimension, version) references rubric_versions (agent_id, dimension, version)
    );

    create table dataset_pointers (
      agent_id text primary key references agents(id),
      dataset_version_id text not null,
      version integer not null,
      pinned_over integer not null,
      updated_by text not null,
      reason text not null,
      updated_at timestamptz not null default now()
    );

    alter table scores add column rubric_version integer;
    alter table evaluator_errors add column rubric_version integer;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table evaluator_errors drop column rubric_version;
    alter table scores drop column rubric_version;
    drop table dataset_pointers, rubric_pointers, rubric_versions, agent_config_versions;
  `.execute(db);
}
