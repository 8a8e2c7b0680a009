import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// Online evaluation scores live traffic outside any cycle. Its scores land in `scores`
// beside the cycles' own, with the same evaluators and sources; a null cycle_id marks them
// online. The unique constraint over (cycle_id, trace_id, evaluator) does not hold for nulls,
// so a partial unique index keeps one online score per (trace, evaluator): a retried run
// stores nothing twice. agent_id (online rows only) lets the drift check read an agent's
// online verdicts by time without a join over every partition of traces.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table scores alter column cycle_id drop not null;
    alter table scores add column agent_id text;
    alter table scores add column trace_started_at timestamptz;
    create unique index scores_online_trace_evaluator on scores (trace_id, evaluator) where cycle_id is null;
    create index scores_online_agent_time on scores (agent_id, trace_started_at) where cycle_id is null;

    -- Every live trace online evaluation has looked at, scored or not (the cap skipped its
    -- judge, or the judge's answer was an evaluator error): it is never due again, and what
    -- it cost counts toward the day's cap even when its run crashed before recording itself.
    create table online_evaluated_traces (
      trace_id text primary key,
      agent_id text not null,
      trace_started_at timestamptz not null,
      run_key text not null,
      failing boolean not null,
      judged boolean not null,
      skipped_for_cap boolean not null,
      judge_calls integer not null,
      tokens integer not null,
      cost_usd double precision not null,
      evaluated_at timestamptz not null default now()
    );
    create index online_evaluated_traces_agent_time on online_evaluated_traces (agent_id, evaluated_at);
    create index online_evaluated_traces_run on online_evaluated_traces (run_key);

    create table online_evaluation_runs (
      id bigserial primary key,
      agent_id text not null,
      run_key text not null unique,
      window_start timestamptz not null,
      window_end timestamptz not null,
      considered integer not null,
      sampled integer not null,
      scored integer not null,
      failing integer not null,
      skipped_for_cap integer not null,
      judge_calls integer not null,
      tokens integer not null,
      cost_usd double precision not null,
      created_at timestamptz not null default now()
    );
    create index online_evaluation_runs_agent_time on online_evaluation_runs (agent_id, window_end);

    create table drift_states (
      agent_id text primary key,
      epoch_start timestamptz not null,
      prototypes jsonb,
      last_check_at timestamptz,
      last_check jsonb
    );

    create table drift_alerts (
      id text primary key,
      agent_id text not null,
      at timestamptz not null,
      reference_start timestamptz not null,
      current_start timestamptz not null,
      findings jsonb not null,
      drifted_trace_ids jsonb not null,
      tests_counted integer not null,
      cycle_id text,
      notified boolean not null default false,
      created_at timestamptz not null default now()
    );
    create index drift_alerts_agent_time on drift_alerts (agent_id, at);
    create unique index drift_alerts_cycle on drift_alerts (cycle_id) where cycle_id is not null;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table drift_alerts;
    drop table drift_states;
    drop table online_evaluation_runs;
    drop table online_evaluated_traces;
    delete from scores where cycle_id is null;
    drop index scores_online_agent_time;
    drop index scores_online_trace_evaluator;
    alter table scores drop column trace_started_at;
    alter table scores drop column agent_id;
    alter table scores alter column cycle_id set not null;
  `.execute(db);
}
