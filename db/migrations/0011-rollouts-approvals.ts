import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- Operators may roll out a version by hand, outside a cycle and without a gate decision.
    alter table rollouts alter column cycle_id drop not null;
    alter table rollouts alter column release_decision_id drop not null;
    alter table rollouts
      add column workflow_id text,
      add column config jsonb not null default '{}',
      add column phase text not null default 'progressing',
      add column paused_reason text,
      add column step_index integer not null default 0,
      add column created_by text not null default 'flywheel';
    alter table rollout_steps add column kind text not null default 'analysis';
    create table rollout_shadow_results (
      rollout_id text not null references rollouts(id),
      step_index integer not null,
      trace_id text not null,
      candidate_output jsonb not null,
      candidate_pass boolean not null,
      baseline_pass boolean not null,
      created_at timestamptz not null default now(),
      primary key (rollout_id, step_index, trace_id)
    );
    -- One row per person and cycle: the N-person rule counts distinct approvers.
    create table approvals (
      id bigserial primary key,
      cycle_id text not null references cycles(id),
      approver text not null,
      decision text not null,
      comment text,
      created_at timestamptz not null default now(),
      unique (cycle_id, approver)
    );
    -- Every webhook delivery, so an operator can see a reminder that never arrived.
    create table notifications (
      id bigserial primary key,
      agent_id text not null,
      cycle_id text,
      event text not null,
      url text,
      payload jsonb not null,
      delivered boolean not null,
      status integer,
      error text,
      created_at timestamptz not null default now()
    );
    create index notifications_cycle on notifications (cycle_id, created_at);
    create index audit_log_artifact on audit_log (artifact, created_at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop index audit_log_artifact;
    drop table notifications, approvals, rollout_shadow_results;
    alter table rollout_steps drop column kind;
    alter table rollouts drop column workflow_id, drop column config, drop column phase,
      drop column paused_reason, drop column step_index, drop column created_by;
  `.execute(db);
}
