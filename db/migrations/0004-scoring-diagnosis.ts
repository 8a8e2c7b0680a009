import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
// Scoring and diagnosis: every evaluator writes its own row (several code checks may share
// a dimension), evaluator errors are recorded instead of becoming zeros, clusters carry a
// stable identity across cycles with their diagnosis, and judge calibration is kept per cycle.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table scores add column evaluator text;
    update scores set evaluator = case when source = 'judge' then 'judge:' || dimension else dimension end;
    alter table scores alter column evaluator set not null;
    alter table scores add column cost_usd real not null default 0;
    alter table scores add column confidence real not null default 1;
    alter table scores add column findings jsonb not null default '[]';
    alter table scores drop constraint scores_cycle_id_trace_id_dimension_source_key;
    alter table scores add constraint scores_cycle_trace_evaluator_key unique (cycle_id, trace_id, evaluator);

    create table evaluator_errors (
      cycle_id text not null references cycles(id),
      trace_id text not null,
      evaluator text not null,
      dimension text not null,
      source text not null,
      error text not null,
      created_at timestamptz not null default now(),
      primary key (cycle_id, trace_id, evaluator)
    );

    -- One row per cluster and cycle (id = cycle id + stable id); stable_id is the identity
    -- that survives across cycles.
    alter table clusters add column agent_id text references agents(id);
    alter table clusters add column stable_id text;
    alter table clusters add column name text not null default '';
    alter table clusters add column centroid jsonb;
    alter table clusters add column embedder text;
    alter table clusters add column previous_id text;
    alter table clusters add column diagnosis jsonb;
    alter table clusters add column diagnosis_error text;
    alter table clusters add column intervention text;
    create index clusters_agent_stable on clusters (agent_id, stable_id);
    alter table cluster_members add column probability real not null default 1;
    -- A noise point of the density clustering, attached to its nearest cluster so it stays recoverable.
    alter table cluster_members add column noise boolean not null default false;

    create table cycle_reports (
      cycle_id text primary key references cycles(id),
      kind text not null default 'diagnosis',
      markdown text not null,
      data jsonb not null,
      created_at timestamptz not null default now()
    );

    create table judge_calibrations (
      cycle_id text not null references cycles(id),
      agent_id text not null references agents(id),
      dimension text not null,
      labels integer not null,
      accuracy real,
      kappa real,
      f1 real,
      can_gate boolean not null,
      reason text not null,
      created_at timestamptz not null default now(),
      primary key (cycle_id, dimension)
    );

    -- Per-dimension labels a reviewer gave besides the overall verdict (for judge calibration).
    alter table annotations add column dimensions jsonb not null default '{}';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table annotations drop column dimensions;
    drop table judge_calibrations;
    drop table cycle_reports;
    alter table cluster_members drop column noise, drop column probability;
    drop index clusters_agent_stable;
    alter table clusters drop column intervention, drop column diagnosis_error, drop column diagnosis,
      drop column previous_id, drop column embedder, drop column centroid, drop column name,
      drop column stable_id, drop column agent_id;
    drop table evaluator_errors;
    alter table scores drop constraint scores_cycle_trace_evaluator_key;
    alter table scores add constraint scores_cycle_id_trace_id_dimension_source_key unique (cycle_id, trace_id, dimension, source);
    alter table scores drop column findings, drop column confidence, drop column cost_usd, drop column evaluator;
  `.execute(db);
}
