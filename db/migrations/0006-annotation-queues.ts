import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// Annotation queues for human review: one queue per cycle with its policy (reviewers per
// item, quorum, claim length) frozen at creation, score configs in Langfuse's shape that
// reviewers fill, round-robin assignments, expiring claims and per-item consensus.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table score_configs (
      id text primary key,
      -- null: a global config every agent's queues list.
      agent_id text references agents(id),
      name text not null,
      data_type text not null check (data_type in ('NUMERIC', 'CATEGORICAL', 'BOOLEAN')),
      min_value double precision,
      max_value double precision,
      categories jsonb,
      description text,
      is_archived boolean not null default false,
      created_at timestamptz not null default now()
    );
    create unique index score_configs_scope_name on score_configs (coalesce(agent_id, ''), name);

    create table annotation_queues (
      id text primary key,
      agent_id text not null references agents(id),
      cycle_id text not null unique references cycles(id),
      name text not null,
      reviewers_per_item integer not null,
      quorum double precision not null,
      claim_seconds integer not null,
      score_config_ids text[] not null default '{}',
      -- open → complete (quorum reached) or closed (the cycle moved on without quorum).
      status text not null default 'open',
      created_at timestamptz not null default now(),
      completed_at timestamptz,
      -- Set once the cycle workflow was told the quorum is reached: at most one signal.
      notified_at timestamptz
    );
    create index annotation_queues_agent on annotation_queues (agent_id, created_at desc);

    alter table annotation_items
      add column queue_id text references annotation_queues(id),
      add column judge_explanation text,
      add column verdict_source text,
      add column failing_step integer,
      add column failing_finding text,
      add column required_reviews integer not null default 1,
      add column completed_at timestamptz,
      add column consensus_verdict text,
      add column disagreement boolean not null default false;
    update annotation_items set status = 'complete', completed_at = created_at where status = 'labelled';
    create index annotation_items_queue on annotation_items (queue_id, id);

    create table annotation_assignments (
      item_id text not null references annotation_items(id),
      reviewer text not null,
      created_at timestamptz not null default now(),
      primary key (item_id, reviewer)
    );
    create index annotation_assignments_reviewer on annotation_assignments (reviewer, item_id);

    -- A claim holds one of an item's review slots until expires_at; an expired row frees the
    -- slot without anyone deleting it.
    create table annotation_claims (
      item_id text not null references annotation_items(id),
      reviewer text not null,
      claimed_at timestamptz not null default now(),
      expires_at timestamptz not null,
      primary key (item_id, reviewer)
    );

    alter table annotations add column scores jsonb not null default '{}';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table annotations drop column scores;
    drop table annotation_claims;
    drop table annotation_assignments;
    drop index annotation_items_queue;
    update annotation_items set status = 'labelled' where status = 'complete';
    update annotation_items set status = 'pending' where status = 'in_progress';
    alter table annotation_items
      drop column disagreement,
      drop column consensus_verdict,
      drop column completed_at,
      drop column required_reviews,
      drop column failing_finding,
      drop column failing_step,
      drop column verdict_source,
      drop column judge_explanation,
      drop column queue_id;
    drop table annotation_queues;
    drop table score_configs;
  `.execute(db);
}
