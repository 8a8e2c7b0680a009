import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// Traces move to a table partitioned by day (UTC), so a weekly sample reads seven
// partitions and retention drops whole partitions instead of deleting rows. Postgres can
// only enforce uniqueness on a partitioned table with the partition key in the key, so the
// primary key is (id, started_at): the writers make re-sent traces idempotent (a trace
// keeps its start time), and foreign keys to traces(id) from the cycle tables are dropped;
// a sample that outlives its trace's retention keeps its redacted copy.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table samples drop constraint if exists samples_trace_id_fkey;
    alter table scores drop constraint if exists scores_trace_id_fkey;
    alter table cluster_members drop constraint if exists cluster_members_trace_id_fkey;
    alter table annotation_items drop constraint if exists annotation_items_trace_id_fkey;
    alter table dataset_examples drop constraint if exists dataset_examples_trace_id_fkey;
    alter table traces rename to traces_unpartitioned;
    alter index traces_agent_time rename to traces_unpartitioned_agent_time;
    alter index traces_agent_version_time rename to traces_unpartitioned_agent_version_time;

    create table traces (
      id text not null,
      agent_id text not null,
      prompt_name text,
      prompt_version integer,
      session_id text,
      user_id text,
      started_at timestamptz not null,
      ended_at timestamptz,
      model text,
      status text not null default 'ok',
      input jsonb not null,
      output jsonb not null,
      expected jsonb,
      expected_actions jsonb,
      feedback smallint,
      feedback_text text,
      outcome text,
      reward double precision,
      input_tokens integer,
      output_tokens integer,
      cost_usd double precision,
      latency_ms double precision,
      spans jsonb not null default '{}',
      attributes jsonb not null default '{}',
      -- The agent's custom sampling strata this trace matched when written or given feedback.
      strata text[] not null default '{}',
      -- A uniform [0, 1) key per trace id, computed by Postgres so every writer (COPY, the
      -- API, this migration) agrees and sampling can range-scan it: a trace sampled at
      -- rate r is sampled at every larger rate.
      sample_key double precision generated always as (
        ((hashtextextended(id, 0)::numeric + 9223372036854775808) / 18446744073709551616)::double precision
      ) stored,
      ingested_at timestamptz not null default now(),
      primary key (id, started_at)
    ) partition by range (started_at);

    create index traces_agent_time on traces (agent_id, started_at);
    create index traces_agent_sample_key on traces (agent_id, sample_key);
    create index traces_agent_version_time on traces (agent_id, prompt_version, started_at);
    create index traces_session on traces (agent_id, session_id) where session_id is not null;
    -- The always-sampled strata are rare; a partial index finds them without a scan.
    create index traces_strata on traces (agent_id, started_at)
      where feedback < 0 or status = 'error' or outcome in ('escalated', 'error') or strata <> '{}';

    create function flywheel_ensure_trace_partition(day date) returns void
    language plpgsql as $fn$
    declare
      name text := 'traces_' || to_char(day, 'YYYYMMDD');
    begin
      if to_regclass(name) is null then
        begin
          execute format(
            'create table %I partition of traces for values from (%L) to (%L)',
            name,
            (day::timestamp at time zone 'UTC'),
            ((day + 1)::timestamp at time zone 'UTC')
          );
        exception when duplicate_table then
          -- Another writer created it between the check and the create.
          null;
        end;
      end if;
    end
    $fn$;

    select flywheel_ensure_trace_partition(d::date)
    from (select distinct (started_at at time zone 'UTC')::date as d from traces_unpartitioned) days;

    insert into traces (id, agent_id, prompt_version, session_id, user_id, started_at, input, output,
      expected, feedback, feedback_text, outcome, attributes, ingested_at, spans)
    select id, agent_id, prompt_version, session_id, user_id, started_at, input, output,
      expected, feedback, feedback_text, outcome, attributes, ingested_at, '{}'::jsonb
    from traces_unpartitioned;
    drop table traces_unpartitioned;

    alter table samples add column reasons text[] not null default '{}';
    alter table samples add column redacted jsonb;
    alter table samples add column redactions jsonb not null default '{}';

    create table agent_tokens (
      id text primary key,
      agent_id text not null references agents(id),
      token_sha256 text not null unique,
      scopes text[] not null,
      created_by text not null,
      created_at timestamptz not null default now(),
      revoked_at timestamptz
    );

    create table feedback_events (
      id bigserial primary key,
      agent_id text not null references agents(id),
      trace_id text,
      session_id text,
      score smallint,
      text text,
      outcome text,
      attributes jsonb not null default '{}',
      matched integer not null,
      created_at timestamptz not null default now()
    );
  `.execute(db);
}

export function down(): Promise<void> {
  return Promise.reject(
    new Error('0003-trace-partitions cannot be reverted: restore from a backup instead.'),
  );
}
