import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table agents (
      id text primary key,
      description text not null default '',
      config jsonb not null default '{}',
      created_at timestamptz not null default now()
    );
    create table prompt_versions (
      id text primary key,
      agent_id text not null references agents(id),
      version integer not null,
      text text not null,
      source text not null,
      candidate_id text,
      created_at timestamptz not null default now(),
      unique (agent_id, version)
    );
    create table prompt_labels (
      agent_id text not null references agents(id),
      label text not null,
      prompt_version_id text not null references prompt_versions(id),
      updated_at timestamptz not null default now(),
      primary key (agent_id, label)
    );
    create table traces (
      id text primary key,
      agent_id text not null references agents(id),
      prompt_version integer,
      session_id text,
      user_id text,
      started_at timestamptz not null,
      input jsonb not null,
      output jsonb not null,
      expected jsonb,
      feedback smallint,
      feedback_text text,
      outcome text,
      attributes jsonb not null default '{}',
      ingested_at timestamptz not null default now()
    );
    create index traces_agent_time on traces (agent_id, started_at);
    create index traces_agent_version_time on traces (agent_id, prompt_version, started_at);
    create table cycles (
      id text primary key,
      agent_id text not null references agents(id),
      run_id text not null,
      stage text not null,
      outcome text not null,
      window_start timestamptz not null,
      window_end timestamptz not null,
      input jsonb not null,
      started_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create table samples (
      cycle_id text not null references cycles(id),
      trace_id text not null references traces(id),
      reason text not null,
      primary key (cycle_id, trace_id)
    );
    create table scores (
      id bigserial primary key,
      cycle_id text not null references cycles(id),
      trace_id text not null references traces(id),
      dimension text not null,
      value real not null,
      label text not null,
      category text,
      explanation text not null,
      source text not null,
      created_at timestamptz not null default now(),
      unique (cycle_id, trace_id, dimension, source)
    );
    create table clusters (
      id text primary key,
      cycle_id text not null references cycles(id),
      category text not null,
      size integer not null
    );
    create table cluster_members (
      cluster_id text not null references clusters(id),
      trace_id text not null references traces(id),
      primary key (cluster_id, trace_id)
    );
    create table annotation_items (
      id text primary key,
      cycle_id text not null references cycles(id),
      trace_id text not null references traces(id),
      cluster_id text references clusters(id),
      judge_label text not null,
      judge_category text,
      status text not null default 'pending',
      created_at timestamptz not null default now(),
      unique (cycle_id, trace_id)
    );
    create table annotations (
      id bigserial primary key,
      item_id text not null references annotation_items(id),
      reviewer text not null,
      verdict text not null,
      category text,
      expected jsonb,
      comment text,
      created_at timestamptz not null default now(),
      unique (item_id, reviewer)
    );
    create table dataset_versions (
      id text primary key,
      agent_id text not null references agents(id),
      version integer not null,
      cycle_id text not null references cycles(id),
      created_at timestamptz not null default now(),
      unique (agent_id, version)
    );
    create table dataset_examples (
      id text primary key,
      dataset_version_id text not null references dataset_versions(id),
      trace_id text not null references traces(id),
      cluster_id text references clusters(id),
      annotation_id bigint references annotations(id),
      split text not null,
      input jsonb not null,
      expected jsonb not null
    );
    create table optimization_runs (
      id text primary key,
      cycle_id text not null references cycles(id),
      optimizer text not null,
      config jsonb not null,
      status text not null,
      best_candidate_id text,
      baseline_score real,
      best_score real,
      rollouts integer not null default 0,
      stop_reason text,
      created_at timestamptz not null default now()
    );
    create table candidates (
      id text primary key,
      run_id text not null references optimization_runs(id),
      prompt_text text not null,
      rationale text not null,
      parent_id text,
      created_at timestamptz not null default now()
    );
    create table candidate_scores (
      candidate_id text not null references candidates(id),
      example_id text not null references dataset_examples(id),
      score real not null,
      output jsonb not null,
      primary key (candidate_id, example_id)
    );
    create table gate_reports (
      id text primary key,
      cycle_id text not null references cycles(id),
      candidate_id text not null references candidates(id),
      baseline_version_id text not null references prompt_versions(id),
      candidate_version_id text references prompt_versions(id),
      passed boolean not null,
      failing_assertion text,
      report jsonb not null,
      created_at timestamptz not null default now()
    );
    create table release_decisions (
      id text primary key,
      cycle_id text not null references cycles(id),
      gate_report_id text not null references gate_reports(id),
      decision text not null,
      decided_by text not null,
      comment text,
      created_at timestamptz not null default now()
    );
    create table rollouts (
      id text primary key,
      cycle_id text not null references cycles(id),
      agent_id text not null references agents(id),
      release_decision_id text not null references release_decisions(id),
      baseline_version_id text not null references prompt_versions(id),
      candidate_version_id text not null references prompt_versions(id),
      weight real not null default 0,
      status text not null,
      reason text,
      started_at timestamptz not null default now(),
      ended_at timestamptz
    );
    create unique index one_active_rollout_per_agent on rollouts (agent_id) where status = 'running';
    create table rollout_steps (
      rollout_id text not null references rollouts(id),
      step_index integer not null,
      round integer not null,
      weight real not null,
      verdict text not null,
      metrics jsonb not null,
      created_at timestamptz not null default now(),
      primary key (rollout_id, step_index, round)
    );
    create table audit_log (
      id bigserial primary key,
      actor text not null,
      action text not null,
      artifact text not null,
      detail jsonb not null default '{}',
      created_at timestamptz not null default now()
    );
    create table llm_cache (
      key text primary key,
      response jsonb not null,
      created_at timestamptz not null default now()
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table llm_cache, audit_log, rollout_steps, rollouts, release_decisions, gate_reports,
      candidate_scores, candidates, optimization_runs, dataset_examples, dataset_versions,
      annotations, annotation_items, cluster_members, clusters, scores, samples, cycles,
      traces, prompt_labels, prompt_versions, agents;
  `.execute(db);
}
