import { sql, type Kysely } from 'kysely';

/**
 * Prompt registry: a prompt is a name with immutable versions (text or chat, config, tags,
 * commit message, author); labels are movable pointers unique per (prompt name, label).
 * Existing rows become the text prompt named after their agent, so their ids
 * (`<agent>@v<N>`) and labels stay valid.
 */
// Frozen in time: this migration imports nothing from the app and uses Kysely<any>.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table prompt_versions
      add column name text,
      add column type text not null default 'text',
      add column messages jsonb,
      add column config jsonb not null default '{}',
      add column tags text[] not null default '{}',
      add column commit_message text,
      add column created_by text not null default 'unknown';
    update prompt_versions
      set name = agent_id,
          created_by = case source when 'optimizer' then 'flywheel' when 'seed' then 'seed' else 'unknown' end;
    alter table prompt_versions alter column name set not null;
    alter table prompt_versions
      add constraint prompt_versions_type check (type in ('text', 'chat')),
      add constraint prompt_versions_chat_messages check ((type = 'chat') = (messages is not null));
    -- Versions are numbered per prompt name now; an agent may own several prompts.
    alter table prompt_versions drop constraint prompt_versions_agent_id_version_key;
    alter table prompt_versions add constraint prompt_versions_name_version unique (name, version);
    alter table prompt_versions add constraint prompt_versions_id_name unique (id, name);

    alter table prompt_labels add column prompt_name text;
    update prompt_labels l set prompt_name = v.name from prompt_versions v where v.id = l.prompt_version_id;
    alter table prompt_labels alter column prompt_name set not null;
    alter table prompt_labels drop constraint prompt_labels_pkey;
    alter table prompt_labels add primary key (prompt_name, label);
    -- A label can only point at a version of its own prompt.
    alter table prompt_labels
      add constraint prompt_labels_version_of_prompt
      foreign key (prompt_version_id, prompt_name) references prompt_versions (id, name);
    alter table prompt_labels
      add constraint prompt_labels_name check (label ~ '^[a-z0-9][a-z0-9_.-]*$' and label <> 'latest') not valid;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table prompt_labels drop constraint prompt_labels_name;
    alter table prompt_labels drop constraint prompt_labels_version_of_prompt;
    alter table prompt_labels drop constraint prompt_labels_pkey;
    alter table prompt_labels add primary key (agent_id, label);
    alter table prompt_labels drop column prompt_name;
    alter table prompt_versions drop constraint prompt_versions_id_name;
    alter table prompt_versions drop constraint prompt_versions_name_version;
    alter table prompt_versions add constraint prompt_versions_agent_id_version_key unique (agent_id, version);
    alter table prompt_versions
      drop column name, drop column type, drop column messages, drop column config,
      drop column tags, drop column commit_message, drop column created_by;
  `.execute(db);
}
