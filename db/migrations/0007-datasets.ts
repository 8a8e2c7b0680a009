import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
//
// Datasets with immutable versions and lineage. A dataset belongs to an agent (the default
// one is named after the agent); a version derives from its parent (copy-on-write plus
// changes) and, once published, neither it nor its examples may change. Postgres enforces
// that with triggers, so no code path (an activity, a script, a hand-typed UPDATE) can
// rewrite the data a gate report was computed on.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table datasets (
      id text primary key,
      agent_id text not null references agents(id),
      name text not null,
      description text not null default '',
      -- Seed of the split hash: every version of the dataset splits new examples alike.
      split_seed integer not null default 0,
      created_at timestamptz not null default now(),
      unique (agent_id, name)
    );

    alter table dataset_versions add column dataset_id text references datasets(id);
    alter table dataset_versions add column parent_version_id text references dataset_versions(id);
    alter table dataset_versions add column created_by text not null default 'flywheel';
    alter table dataset_versions add column note text not null default '';
    alter table dataset_versions add column published_at timestamptz;
    alter table dataset_versions add column decontamination jsonb not null default '{}';
    -- Imports and retirements are not made by a cycle.
    alter table dataset_versions alter column cycle_id drop not null;

    -- Every existing version becomes a published version of its agent's default dataset.
    insert into datasets (id, agent_id, name)
      select distinct agent_id || '-dataset', agent_id, agent_id from dataset_versions;
    update dataset_versions set dataset_id = agent_id || '-dataset', published_at = created_at;
    alter table dataset_versions alter column dataset_id set not null;
    alter table dataset_versions drop constraint dataset_versions_agent_id_version_key;
    alter table dataset_versions add constraint dataset_versions_dataset_version_key unique (dataset_id, version);
    create index dataset_versions_cycle on dataset_versions (cycle_id);

    -- example_key is an example's identity across versions: its source trace, or the
    -- imported record's id. It is what keeps a split sticky and what decontamination matches.
    alter table dataset_examples alter column trace_id drop not null;
    alter table dataset_examples add column example_key text;
    update dataset_examples set example_key = trace_id;
    alter table dataset_examples alter column example_key set not null;
    alter table dataset_examples add column cluster_stable_id text;
    alter table dataset_examples add column cycle_id text;
    alter table dataset_examples add column slices text[] not null default '{}';
    alter table dataset_examples add column source text not null default 'cycle';
    alter table dataset_examples add column created_at timestamptz not null default now();
    alter table dataset_examples add column created_by text not null default 'flywheel';
    alter table dataset_examples add column origin_version_id text;
    -- Why an example that hashed to eval/holdout is kept out of the gating splits.
    alter table dataset_examples add column gating_excluded text;
    alter table dataset_examples add column content_hash text
      generated always as (md5(input::text || '|' || expected::text)) stored;
    update dataset_examples e set cluster_stable_id = c.stable_id, origin_version_id = e.dataset_version_id
      from clusters c where c.id = e.cluster_id;
    update dataset_examples set origin_version_id = dataset_version_id where origin_version_id is null;
    alter table dataset_examples add constraint dataset_examples_split_check
      check (split in ('train', 'eval', 'holdout'));
    create unique index dataset_examples_version_key on dataset_examples (dataset_version_id, example_key);
    create index dataset_examples_key on dataset_examples (example_key);
    create index dataset_examples_trace on dataset_examples (trace_id);
    create index dataset_examples_annotation on dataset_examples (annotation_id);

    -- Examples present in a version's parent and left out of it, with why.
    create table dataset_retirements (
      dataset_version_id text not null references dataset_versions(id),
      example_key text not null,
      example_id text not null,
      reason text not null,
      retired_by text not null,
      created_at timestamptz not null default now(),
      primary key (dataset_version_id, example_key)
    );

    -- Which dataset examples each optimization run trained on: what decontamination checks.
    create table optimization_run_examples (
      run_id text not null references optimization_runs(id),
      example_id text not null references dataset_examples(id),
      dataset_version_id text not null references dataset_versions(id),
      example_key text not null,
      content_hash text not null,
      primary key (run_id, example_id)
    );
    create index optimization_run_examples_key on optimization_run_examples (example_key);
    create index optimization_run_examples_example on optimization_run_examples (example_id);

    create function flywheel_dataset_version_guard() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        if new.dataset_id is null then
          -- Writers that predate datasets name only the agent: use its default dataset.
          insert into datasets (id, agent_id, name) values (new.agent_id || '-dataset', new.agent_id, new.agent_id)
            on conflict do nothing;
          new.dataset_id := new.agent_id || '-dataset';
        end if;
        return new;
      end if;
      if old.published_at is not null then
        raise exception 'dataset version % is published and cannot be %; create a new version instead (flywheel dataset import / retire, or the next cycle)',
          old.id, case tg_op when 'UPDATE' then 'updated' else 'deleted' end using errcode = 'P0001';
      end if;
      if tg_op = 'DELETE' then return old; end if;
      return new;
    end $$;
    create trigger dataset_versions_immutable before insert or update or delete on dataset_versions
      for each row execute function flywheel_dataset_version_guard();

    -- Shared by examples and retirements: rows of a published version are frozen. The
    -- version row is read FOR SHARE, so publishing waits for writers still adding rows.
    create function flywheel_dataset_rows_guard() returns trigger language plpgsql as $$
    declare
      published timestamptz;
      version_id text;
    begin
      if tg_op = 'INSERT' then version_id := new.dataset_version_id; else version_id := old.dataset_version_id; end if;
      select published_at into published from dataset_versions where id = version_id for share;
      if published is null and tg_op = 'UPDATE' and new.dataset_version_id <> old.dataset_version_id then
        select published_at into published from dataset_versions where id = new.dataset_version_id for share;
      end if;
      if published is not null then
        raise exception 'dataset version % is published (%): rows of % cannot be %; create a new version instead (flywheel dataset import / retire, or the next cycle)',
          version_id, published, tg_table_name,
          case tg_op when 'INSERT' then 'added' when 'UPDATE' then 'updated' else 'deleted' end
          using errcode = 'P0001';
      end if;
      if tg_op = 'DELETE' then return old; end if;
      if tg_table_name = 'dataset_examples' and new.example_key is null then
        if new.trace_id is null then
          raise exception 'a dataset example needs an example_key or a trace_id' using errcode = '23502';
        end if;
        new.example_key := new.trace_id;
      end if;
      return new;
    end $$;
    create trigger dataset_examples_immutable before insert or update or delete on dataset_examples
      for each row execute function flywheel_dataset_rows_guard();
    create trigger dataset_retirements_immutable before insert or update or delete on dataset_retirements
      for each row execute function flywheel_dataset_rows_guard();

    create function flywheel_dataset_truncate_guard() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from dataset_versions where published_at is not null) then
        raise exception 'cannot truncate %: published dataset versions are immutable', tg_table_name using errcode = 'P0001';
      end if;
      return null;
    end $$;
    create trigger dataset_examples_no_truncate before truncate on dataset_examples
      for each statement execute function flywheel_dataset_truncate_guard();
    create trigger dataset_versions_no_truncate before truncate on dataset_versions
      for each statement execute function flywheel_dataset_truncate_guard();
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop trigger dataset_versions_no_truncate on dataset_versions;
    drop trigger dataset_examples_no_truncate on dataset_examples;
    drop trigger dataset_retirements_immutable on dataset_retirements;
    drop trigger dataset_examples_immutable on dataset_examples;
    drop trigger dataset_versions_immutable on dataset_versions;
    drop function flywheel_dataset_truncate_guard();
    drop function flywheel_dataset_rows_guard();
    drop function flywheel_dataset_version_guard();
    drop table optimization_run_examples;
    drop table dataset_retirements;
    drop index dataset_examples_annotation;
    drop index dataset_examples_trace;
    drop index dataset_examples_key;
    drop index dataset_examples_version_key;
    alter table dataset_examples drop constraint dataset_examples_split_check;
    alter table dataset_examples drop column content_hash, drop column gating_excluded,
      drop column origin_version_id, drop column created_by, drop column created_at, drop column source,
      drop column slices, drop column cycle_id, drop column cluster_stable_id, drop column example_key;
    -- Versions without a cycle (imports, retirements), of other datasets than the agent's
    -- default, and examples without a trace cannot be represented before this migration.
    delete from candidate_scores where example_id in (
      select e.id from dataset_examples e join dataset_versions v on v.id = e.dataset_version_id
      where v.cycle_id is null or v.dataset_id <> v.agent_id || '-dataset' or e.trace_id is null);
    delete from dataset_examples where trace_id is null
      or dataset_version_id in (select id from dataset_versions where cycle_id is null or dataset_id <> agent_id || '-dataset');
    alter table dataset_examples alter column trace_id set not null;
    drop index dataset_versions_cycle;
    alter table dataset_versions drop constraint dataset_versions_dataset_version_key;
    update dataset_versions set parent_version_id = null;
    delete from dataset_versions where cycle_id is null or dataset_id <> agent_id || '-dataset';
    alter table dataset_versions add constraint dataset_versions_agent_id_version_key unique (agent_id, version);
    alter table dataset_versions alter column cycle_id set not null;
    alter table dataset_versions drop column decontamination, drop column published_at, drop column note,
      drop column created_by, drop column parent_version_id, drop column dataset_id;
    drop table datasets;
  `.execute(db);
}
